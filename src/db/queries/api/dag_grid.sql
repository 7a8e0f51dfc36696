-- The latest runs of a DAG with the state of each task instance (the grid).
-- $1 dag_id, $2 limit
SELECT r.id, r.run_id, r.state, r.run_type, r.logical_date, r.version_hash,
       coalesce((SELECT jsonb_object_agg(t.task_id, jsonb_build_object('state', t.state, 'tryNumber', t.try_number))
                 FROM task_instance t WHERE t.dag_run_id = r.id), '{}') AS tasks
FROM dag_run r WHERE r.dag_id = $1
ORDER BY r.logical_date DESC LIMIT $2
