-- Record that the primary reached through the database URL changed, once per new primary
-- (the first component to see it records it; the others find the event already there).
-- $1 component_id (uuid), $2 details (jsonb, with "primary": a key naming the new primary)
INSERT INTO ha_event (kind, component_id, details)
SELECT 'db_primary_changed', $1, $2
WHERE NOT EXISTS (
  SELECT 1 FROM ha_event WHERE kind = 'db_primary_changed' AND details->>'primary' = $2::jsonb->>'primary' AND at > now() - interval '1 day'
)
