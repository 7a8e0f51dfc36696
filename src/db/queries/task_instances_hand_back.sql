-- A stopping worker returns attempts it could not finish: they are queued again and the
-- try does not count. Conditional on the attempt id like every attempt write.
-- $1 attempt ids (uuid[])
UPDATE task_instance
SET state = 'queued', try_number = try_number - 1, attempt_id = NULL, worker_id = NULL,
    lease_expires_at = NULL, queued_at = now()
WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'
RETURNING id, queue
