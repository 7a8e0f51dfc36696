-- The attempt records of attempts handed back (task_instances_hand_back), with why. Only
-- attempts still running: one a scheduler fenced meanwhile keeps its record.
-- $1 attempt ids (uuid[]), $2 logs (text[]), pairwise; $3 error (text): why it was handed back
UPDATE task_attempt a SET state = 'handed_back', ended_at = now(), log = k.log, error = $3
FROM unnest($1::uuid[], $2::text[]) AS k (attempt_id, log)
WHERE a.attempt_id = k.attempt_id AND a.state = 'running'
