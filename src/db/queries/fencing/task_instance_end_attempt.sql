-- End the attempt that holds a task instance; conditional on its attempt id, so a
-- fenced attempt's late write changes nothing (no row returned).
-- $1 task_instance id, $2 attempt_id, $3 new state (success | failed | up_for_retry),
-- $4 result (jsonb or NULL), $5 error (text or NULL), $6 retry delay in seconds (up_for_retry only)
UPDATE task_instance
SET state = $3,
    result = $4,
    error = $5,
    ended_at = now(),
    lease_expires_at = NULL,
    next_event = NULL,
    next_retry_at = CASE WHEN $3 = 'up_for_retry' THEN now() + make_interval(secs => $6::float8) END
WHERE id = $1 AND attempt_id = $2 AND state = 'running'
RETURNING dag_run_id
