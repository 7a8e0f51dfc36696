-- The audit log, newest first. $1 dag_run id or NULL, $2 dag_id or NULL, $3 limit
SELECT id, at, actor, action, dag_id, dag_run_id, task_id, from_state, to_state, try_number, attempt_id, details
FROM lifecycle_audit
WHERE ($1::bigint IS NULL OR dag_run_id = $1) AND ($2::text IS NULL OR dag_id = $2)
ORDER BY id DESC
LIMIT $3
