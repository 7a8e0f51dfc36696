-- Every DAG with its state and the state of its last run (`keel dags list`). No parameters.
SELECT d.dag_id, d.fileloc, d.is_paused AS paused, d.is_active AS active,
       d.serialized -> 'schedule' AS schedule, d.next_dagrun_at AS next_run,
       (SELECT r.state FROM dag_run r WHERE r.dag_id = d.dag_id ORDER BY r.logical_date DESC LIMIT 1) AS last_run_state
FROM dag d ORDER BY d.dag_id
