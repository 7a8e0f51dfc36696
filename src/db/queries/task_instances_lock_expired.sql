-- Running attempts whose lease expired (worker dead, frozen or cut off), with the
-- retry policy of their task. Locked rows are left to the scheduler that holds them.
-- $1 limit
SELECT t.id, t.dag_run_id, t.task_id, t.attempt_id, t.try_number, t.max_tries, t.worker_id, t.lease_expires_at, v.serialized
FROM task_instance t
JOIN dag_run r ON r.id = t.dag_run_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE t.state = 'running' AND t.lease_expires_at < now()
ORDER BY t.id
LIMIT $1
FOR UPDATE OF t SKIP LOCKED
