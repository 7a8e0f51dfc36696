-- The task instances of one run. $1 dag_run id
SELECT id, task_id, state, try_number, max_tries, pool, queue, started_at, ended_at, attempt_id, error
FROM task_instance WHERE dag_run_id = $1 ORDER BY id
