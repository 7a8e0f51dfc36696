-- The latest runs of a DAG with each task instance's state, try and times (the grid).
-- $1 dag_id, $2 limit
SELECT r.id, r.run_id AS run_name, r.state, r.run_type, r.logical_date, r.started_at, r.ended_at, r.version_hash,
       coalesce((SELECT jsonb_agg(jsonb_build_object('taskId', t.task_id, 'state', t.state, 'tryNumber', t.try_number,
                                                     'startedAt', t.started_at, 'endedAt', t.ended_at) ORDER BY t.task_id)
                 FROM task_instance t WHERE t.dag_run_id = r.id), '[]') AS task_instances
FROM dag_run r WHERE r.dag_id = $1
ORDER BY r.logical_date DESC LIMIT $2
