-- Close an attempt's record. $1 attempt_id, $2 state, $3 error, $4 log (NULL keeps it)
UPDATE task_attempt SET state = $2, error = coalesce($3, error), log = coalesce($4, log), ended_at = coalesce(ended_at, now())
WHERE attempt_id = $1
