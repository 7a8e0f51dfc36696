-- The run of a task that just ended, if no one else holds it (lock order: dag_run before
-- task_instance). $1 dag_run id
SELECT id, dag_id, version_hash FROM dag_run WHERE id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED
