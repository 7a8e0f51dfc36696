-- A variable's value, for the task that asked for it. $1 key
SELECT value FROM variable WHERE key = $1
