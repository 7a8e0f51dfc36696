-- Mark task instances that have had an attempt success or failed, each only if it is still
-- in the state and holds the attempt the operator saw (compare-and-set on the attempt id,
-- the fencing token). A running one keeps its attempt id, so that attempt's lease renewal
-- and result are rejected (they require state = 'running') and its worker stops it.
-- $1 seen attempt ids (uuid[]), $2 task_instance ids (bigint[]), $3 seen states (text[]),
-- pairwise; $4 new state (success | failed), $5 error text for failed (NULL for success)
UPDATE task_instance t
SET state = $4, error = CASE WHEN $4 = 'failed' THEN $5 END,
    ended_at = now(), lease_expires_at = NULL, next_retry_at = NULL, next_event = NULL
FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS k (attempt_id, id, state)
WHERE t.attempt_id = k.attempt_id AND t.id = k.id AND t.state = k.state
RETURNING t.task_id
