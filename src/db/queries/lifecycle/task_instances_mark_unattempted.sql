-- Mark task instances that never had an attempt (so none is running) success or failed,
-- each only if it is still in the state the operator saw and still has no attempt.
-- $1 task_instance ids (bigint[]), $2 seen states (text[]), pairwise; $3 new state
-- (success | failed), $4 error text for failed (NULL for success)
UPDATE task_instance t
SET state = $3, error = CASE WHEN $3 = 'failed' THEN $4 END,
    ended_at = now(), lease_expires_at = NULL, next_retry_at = NULL, next_event = NULL
FROM unnest($1::bigint[], $2::text[]) AS k (id, state)
WHERE t.id = k.id AND t.state = k.state AND t.attempt_id IS NULL
  AND t.state IN ('pending', 'scheduled', 'queued', 'up_for_retry', 'skipped', 'upstream_failed', 'removed', 'success', 'failed')
RETURNING t.task_id
