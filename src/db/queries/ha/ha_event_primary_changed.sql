-- Record that the primary reached through the database URL changed, once per new primary
-- (the first component to see it records it; for the others the unique index of migration
-- 0010 makes the insert a no-op, also when two insert at the same moment).
-- $1 component_id (uuid), $2 details (jsonb, with "primary": a key naming the new primary)
INSERT INTO ha_event (kind, component_id, details)
VALUES ('db_primary_changed', $1, $2)
ON CONFLICT ((details->>'primary')) WHERE kind = 'db_primary_changed' DO NOTHING
