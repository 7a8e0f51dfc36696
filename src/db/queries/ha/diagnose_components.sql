-- Live components with the database each one sees (its heartbeat details: server, timeline,
-- fit, verdict), for `keel ha diagnose`.
-- $1 heartbeat age in seconds after which a component is not live
SELECT role, hostname, pid, details -> 'database' AS db
FROM component
WHERE state = 'running' AND last_heartbeat_at > now() - make_interval(secs => $1::float8)
ORDER BY role, hostname, pid
