-- Healthy components of a role (standalone counts for every role: it runs them all).
-- $1 role, $2 heartbeat age limit in seconds
SELECT id, role, hostname, pid, extract(epoch FROM now() - last_heartbeat_at)::float8 AS heartbeat_age_sec
FROM component
WHERE state = 'running' AND (role = $1 OR role = 'standalone')
  AND last_heartbeat_at > now() - make_interval(secs => $2::float8)
