-- Lock a DAG (lock order: dag first) so that a manual run may be started right away,
-- counted against max_active_runs like the scheduler does. $1 dag_id
SELECT serialized, version_hash, is_active, is_paused FROM dag WHERE dag_id = $1 FOR UPDATE
