-- Queued or running task instances per run.
-- $1 dag_run ids (bigint[])
SELECT dag_run_id, count(*)::int AS active
FROM task_instance
WHERE dag_run_id = ANY ($1::bigint[]) AND state IN ('queued', 'running')
GROUP BY dag_run_id
