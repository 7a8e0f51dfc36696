-- One variable. $1 key
SELECT key, value, description, updated_at FROM variable WHERE key = $1
