-- The attempts of a task with their logs (`keel tasks logs`).
-- $1 dag_run id, $2 task_id, $3 try number or NULL (NULL: every try)
SELECT a.attempt_id, a.try_number, a.state, a.hostname, a.started_at, a.ended_at, a.error, a.log
FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id
WHERE t.dag_run_id = $1 AND t.task_id = $2 AND ($3::int IS NULL OR a.try_number = $3)
ORDER BY a.started_at
