-- A component leaves cleanly. $1 component id
UPDATE component SET state = 'stopped', last_heartbeat_at = now() WHERE id = $1
