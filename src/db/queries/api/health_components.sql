-- Components of the last hour with heartbeat age and, for dead ones, how long ago they
-- died (the health document). No parameters.
SELECT id, role, hostname, pid, state,
       extract(epoch FROM now() - last_heartbeat_at)::float8 AS heartbeat_age_sec,
       extract(epoch FROM now() - dead_at)::float8 AS dead_sec_ago
FROM component
WHERE state IN ('running', 'stopping') OR (state = 'dead' AND dead_at > now() - interval '1 hour')
ORDER BY role, started_at
