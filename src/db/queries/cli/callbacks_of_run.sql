-- The callbacks of a run (`keel runs show`), in the order they were recorded. $1 dag_run id
SELECT id, kind, nullif(task_id, '') AS task_id, seq, state, claims, created_at, ended_at, error
FROM callback WHERE dag_run_id = $1 ORDER BY id
