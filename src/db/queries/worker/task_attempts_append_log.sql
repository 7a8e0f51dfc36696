-- Append what running attempts logged since the last flush, so that their logs can be
-- followed live. The full log is written again when the attempt ends.
-- $1 attempt ids (uuid[]), $2 log chunks (text[]), pairwise
UPDATE task_attempt a SET log = a.log || k.chunk
FROM unnest($1::uuid[], $2::text[]) AS k (attempt_id, chunk)
WHERE a.attempt_id = k.attempt_id AND a.state = 'running'
