-- Rows of Keel's main tables (a backup's manifest, `keel backup verify`). No parameters.
SELECT (SELECT count(*) FROM dag)::int AS dags, (SELECT count(*) FROM dag_run)::int AS dag_runs,
       (SELECT count(*) FROM task_instance)::int AS task_instances, (SELECT count(*) FROM task_attempt)::int AS task_attempts,
       (SELECT count(*) FROM task_instance WHERE state = 'running')::int AS running_attempts,
       (SELECT count(*) FROM component)::int AS components, (SELECT count(*) FROM ha_event)::int AS ha_events,
       (SELECT count(*) FROM keel_user)::int AS users, (SELECT count(*) FROM connection)::int AS connections
