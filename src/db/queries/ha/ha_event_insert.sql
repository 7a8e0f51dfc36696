-- $1 kind, $2 component_id (uuid or NULL), $3 details (jsonb)
INSERT INTO ha_event (kind, component_id, details) VALUES ($1, $2, $3)
