-- A deferred task instance whose trigger fired (or timed out, or failed) is scheduled again,
-- to resume on any worker with the outcome in next_event. Conditional on it still waiting
-- on that trigger's deferral: an outcome resumes it at most once.
-- $1 task_instance id, $2 the deferring attempt's id, $3 outcome (jsonb)
UPDATE task_instance SET state = 'scheduled', next_event = $3, scheduled_at = now()
WHERE id = $1 AND attempt_id = $2 AND state = 'deferred'
RETURNING dag_run_id
