-- The attempts a worker runs now. $1 worker component id
SELECT attempt_id FROM task_instance WHERE worker_id = $1 AND state = 'running'
