-- The attempts an operator's mark or cancel stopped: fenced, with the reason. Their end
-- stays open until their worker reports the runner stopped (its rejected late write closes
-- the record), so a clear can tell a stopped runner from one still running.
-- $1 attempt ids (uuid[]), $2 reason
UPDATE task_attempt SET state = 'fenced', error = $2 WHERE attempt_id = ANY ($1::uuid[]) AND state IN ('running', 'deferred')
