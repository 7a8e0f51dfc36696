-- Healthy components of a role (standalone counts for the roles it runs).
-- $1 role, $2 heartbeat age limit in seconds
SELECT id, role, hostname, pid, extract(epoch FROM now() - last_heartbeat_at)::float8 AS heartbeat_age_sec
FROM component
WHERE state = 'running' AND (role = $1 OR (role = 'standalone' AND $1 IN ('scheduler', 'worker', 'dag-processor')))
  AND last_heartbeat_at > now() - make_interval(secs => $2::float8)
