-- The running attempts of the given workers, locked, with their run's DAG version (the
-- task's retry policy): an operator's fence ends them all.
-- $1 worker component ids (uuid[])
SELECT t.id, t.dag_run_id, t.task_id, t.attempt_id, t.try_number, t.max_tries, t.worker_id, v.serialized
FROM task_instance t
JOIN dag_run r ON r.id = t.dag_run_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE t.state = 'running' AND t.worker_id = ANY ($1::uuid[])
ORDER BY t.id
FOR UPDATE OF t
