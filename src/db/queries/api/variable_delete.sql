-- Delete a variable. $1 key
DELETE FROM variable WHERE key = $1 RETURNING key
