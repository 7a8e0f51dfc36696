-- Runs, newest first (`keel runs list`). $1 dag_id or NULL, $2 state or NULL, $3 limit
SELECT id, dag_id, run_id, run_type, state, logical_date, started_at, ended_at
FROM dag_run
WHERE ($1::text IS NULL OR dag_id = $1) AND ($2::text IS NULL OR state = $2)
ORDER BY id DESC LIMIT $3
