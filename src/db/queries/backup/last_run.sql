-- The newest DAG run (by id: ids are handed out in commit order closely enough to name "the
-- last run" of a backup), or no row. No parameters.
SELECT id::text, dag_id, run_id, state, created_at FROM dag_run ORDER BY id DESC LIMIT 1
