-- Delete a pool (never the default pool). $1 name
DELETE FROM pool WHERE name = $1 AND name <> 'default_pool' RETURNING name
