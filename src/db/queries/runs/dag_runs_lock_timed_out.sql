-- Running runs past their DAG version's dagRunTimeoutSec (counted from the run's start),
-- locked; a run another transaction holds is skipped. $1 limit
SELECT r.id, r.dag_id, r.started_at, (v.serialized->>'dagRunTimeoutSec')::float8 AS timeout_sec, v.serialized
FROM dag_run r
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE r.state = 'running' AND v.serialized ? 'dagRunTimeoutSec'
  AND r.started_at + make_interval(secs => (v.serialized->>'dagRunTimeoutSec')::float8) <= now()
ORDER BY r.id
LIMIT $1
FOR UPDATE OF r SKIP LOCKED
