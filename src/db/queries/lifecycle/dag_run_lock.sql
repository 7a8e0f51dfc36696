-- Lock a run for an operator's clear, mark or cancel (lock order dag_run → task_instance),
-- with the DAG version it runs. $1 dag_run id
SELECT r.id, r.dag_id, r.run_id, r.state, v.serialized
FROM dag_run r
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE r.id = $1
FOR UPDATE OF r
