-- One task instance of a run. $1 dag_run id, $2 task_id
SELECT id, dag_id, dag_run_id AS run_id, task_id, state, try_number, max_tries, attempt_id, worker_id, lease_expires_at,
       pool, pool_slots, priority_weight, queue, scheduled_at, queued_at, started_at, ended_at, next_retry_at, result, error
FROM task_instance WHERE dag_run_id = $1 AND task_id = $2
