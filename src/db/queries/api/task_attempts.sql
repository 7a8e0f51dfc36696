-- The attempts of a task instance without their logs. $1 task_instance id
SELECT attempt_id, try_number, worker_id, hostname, state, started_at, ended_at, error, octet_length(log)::int AS log_bytes
FROM task_attempt WHERE task_instance_id = $1 ORDER BY started_at
