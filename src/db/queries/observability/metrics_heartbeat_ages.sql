-- The heartbeat age of each running component (the keel_component_heartbeat_age_seconds gauge).
-- No parameters.
SELECT id, role, hostname, extract(epoch FROM now() - last_heartbeat_at)::float8 AS age FROM component WHERE state = 'running'
