-- State of another DAG's run, or of one task of it, for cross-DAG triggers.
-- $1 dag id, $2 run id (text or NULL), $3 logical date (timestamptz or NULL), $4 task id (text or NULL)
SELECT r.run_id, r.state AS run_state, ti.state AS task_state
FROM dag_run r
LEFT JOIN task_instance ti ON ti.dag_run_id = r.id AND ti.task_id = $4
WHERE r.dag_id = $1
  AND ($2::text IS NULL OR r.run_id = $2)
  AND ($3::timestamptz IS NULL OR r.logical_date = $3)
ORDER BY r.id DESC
LIMIT 1
