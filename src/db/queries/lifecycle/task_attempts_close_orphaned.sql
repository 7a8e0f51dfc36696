-- Close the records of attempts an operator stopped whose worker is gone (the clear saw
-- them not stopping): the process that ran them no longer exists.
-- $1 attempt ids (uuid[])
UPDATE task_attempt SET ended_at = now() WHERE attempt_id = ANY ($1::uuid[]) AND state = 'fenced' AND ended_at IS NULL
