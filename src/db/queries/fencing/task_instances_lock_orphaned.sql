-- Running attempts whose worker process is gone: its session advisory lock was released
-- (PostgreSQL drops it the moment the connection closes, e.g. on kill -9) and its
-- heartbeat is stale. A live worker whose session merely reconnects keeps heartbeating,
-- and nothing is fenced within the grace period after a disruption.
-- $1 limit, $2 grace seconds (dbOutageGraceSec), $3 heartbeat age in seconds that counts
-- as stale (workerLostAfterSec), $4 component lock class (COMPONENT_LOCK_CLASS)
SELECT t.id, t.dag_run_id, t.task_id, t.attempt_id, t.try_number, t.max_tries, t.worker_id, c.last_heartbeat_at, c.pid,
  c.details ->> 'processNamespace' AS process_namespace, v.serialized
FROM task_instance t
JOIN component c ON c.id = t.worker_id
JOIN dag_run r ON r.id = t.dag_run_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE t.state = 'running'
  AND keel_component_gone(c.last_heartbeat_at, c.lock_key, $3::float8, $4::int)
  AND keel_fencing_allowed($2::float8)
ORDER BY t.id
LIMIT $1
FOR UPDATE OF t SKIP LOCKED
