-- A running attempt defers: its task instance waits on a new trigger, without a worker slot
-- or a lease. Conditional on the attempt id like every end of an attempt: a fenced attempt
-- defers nothing (no row returned).
-- $1 task_instance id, $2 attempt_id, $3 fileloc, $4 trigger spec (jsonb), $5 timeout seconds (or NULL)
WITH deferred AS (
  UPDATE task_instance
  SET state = 'deferred', lease_expires_at = NULL, next_event = NULL
  WHERE id = $1 AND attempt_id = $2 AND state = 'running'
  RETURNING id, dag_id, dag_run_id
)
INSERT INTO trigger (task_instance_id, attempt_id, dag_id, fileloc, spec, timeout_at)
SELECT id, $2, dag_id, $3, $4, now() + make_interval(secs => $5::float8) FROM deferred
RETURNING id, (SELECT dag_run_id FROM deferred) AS dag_run_id
