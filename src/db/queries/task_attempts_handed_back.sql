-- $1 attempt ids (uuid[]), $2 logs (text[]), pairwise
UPDATE task_attempt a SET state = 'handed_back', ended_at = now(), log = k.log,
  error = 'handed back: the worker stopped before the attempt finished'
FROM unnest($1::uuid[], $2::text[]) AS k (attempt_id, log)
WHERE a.attempt_id = k.attempt_id
