-- Running attempts whose lease expired (worker frozen, cut off, or dead without anyone
-- noticing sooner), with the retry policy of their task. Nothing is fenced within the
-- grace period after a database disruption or server start: the fleet may still be
-- reconnecting. Rows another scheduler holds are skipped.
-- $1 limit, $2 grace seconds (dbOutageGraceSec)
SELECT t.id, t.dag_run_id, t.task_id, t.attempt_id, t.try_number, t.max_tries, t.worker_id, t.lease_expires_at, v.serialized
FROM task_instance t
JOIN dag_run r ON r.id = t.dag_run_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE t.state = 'running' AND t.lease_expires_at < now()
  AND keel_fencing_allowed($2::float8)
ORDER BY t.id
LIMIT $1
FOR UPDATE OF t SKIP LOCKED
