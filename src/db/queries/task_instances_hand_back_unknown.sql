-- Attempts the database says a worker runs that the worker does not know of: a claim that
-- committed while its answer was lost with the connection (a failover, a cut connection).
-- They are handed back at once, queued again with the try not counted, instead of waiting
-- for their lease to expire and being fenced as if the worker had died. Run by the worker's
-- claim loop between claims, so no claim of its own is in flight.
-- $1 worker component id (uuid), $2 attempt ids the worker runs (uuid[])
WITH orphan AS (
  UPDATE task_instance t
  SET state = 'queued', try_number = t.try_number - CASE WHEN t.next_event IS NULL THEN 1 ELSE 0 END,
      attempt_id = NULL, worker_id = NULL, lease_expires_at = NULL, queued_at = now()
  FROM task_instance before_update
  WHERE before_update.id = t.id AND t.worker_id = $1 AND t.state = 'running' AND NOT (t.attempt_id = ANY ($2::uuid[]))
  RETURNING t.id, t.queue, before_update.attempt_id
), ended AS (
  UPDATE task_attempt a
  SET state = 'handed_back', ended_at = now(),
      error = 'handed back: its worker never received the claim (the answer was lost with the database connection), so it never ran'
  FROM orphan o
  WHERE a.attempt_id = o.attempt_id
)
SELECT attempt_id, queue FROM orphan
