-- A stopping worker returns attempts it could not finish: they are queued again and the
-- try does not count (a resumed deferral's attempt did not start a try: its claim left the
-- try number as it was, and so does this). Conditional on the attempt id like every attempt write.
-- $1 attempt ids (uuid[])
UPDATE task_instance
SET state = 'queued', try_number = try_number - CASE WHEN next_event IS NULL THEN 1 ELSE 0 END, attempt_id = NULL, worker_id = NULL,
    lease_expires_at = NULL, queued_at = now()
WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'
RETURNING id, queue
