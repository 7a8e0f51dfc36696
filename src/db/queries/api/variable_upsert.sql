-- Create or replace a variable. $1 key, $2 value, $3 description
INSERT INTO variable (key, value, description) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, description = EXCLUDED.description, updated_at = now()
RETURNING key, value, description, updated_at
