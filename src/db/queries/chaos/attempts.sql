-- Every attempt, for the checker. No parameters.
SELECT attempt_id, task_instance_id, state, worker_id, started_at, ended_at FROM task_attempt
