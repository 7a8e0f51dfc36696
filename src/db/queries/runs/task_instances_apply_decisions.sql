-- Apply the scheduler's readiness decisions. Only rows still pending or up for retry
-- change: nothing else may be moved by this statement.
-- $1 ids (bigint[]), $2 new states (text[])
UPDATE task_instance t
SET state = d.state,
    scheduled_at = CASE WHEN d.state = 'scheduled' THEN now() ELSE t.scheduled_at END,
    ended_at = CASE WHEN d.state IN ('skipped', 'upstream_failed') THEN now() ELSE t.ended_at END,
    next_retry_at = NULL
FROM unnest($1::bigint[], $2::text[]) AS d (id, state)
WHERE t.id = d.id AND t.state IN ('pending', 'up_for_retry')
