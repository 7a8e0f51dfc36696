-- Integrity (`keel backup verify`): running task instances without an attempt id, a worker
-- or a lease, which no sweep could ever fence. No parameters.
SELECT id::text, dag_run_id::text, task_id FROM task_instance
WHERE state = 'running' AND (attempt_id IS NULL OR worker_id IS NULL OR lease_expires_at IS NULL)
ORDER BY id LIMIT 20
