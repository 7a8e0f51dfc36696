-- Lock a run before its task instances (lock order dag_run → task_instance). $1 dag_run id
SELECT id, state FROM dag_run WHERE id = $1 FOR UPDATE
