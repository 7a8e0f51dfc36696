-- Create or resize a pool. $1 name, $2 slots, $3 description or NULL (keep)
INSERT INTO pool (name, slots, description) VALUES ($1, $2, coalesce($3, ''))
ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots, description = coalesce($3, pool.description)
RETURNING name, slots, description
