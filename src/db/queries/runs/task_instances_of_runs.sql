-- $1 dag_run ids (bigint[])
SELECT id, dag_run_id, task_id, state, (next_retry_at IS NOT NULL AND next_retry_at <= now()) AS retry_due
FROM task_instance
WHERE dag_run_id = ANY ($1::bigint[])
