-- The running attempts of a cancelled run end as fenced. $1 attempt ids (uuid[])
UPDATE task_attempt SET state = 'fenced', error = 'cancelled by a user', ended_at = now() WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'
