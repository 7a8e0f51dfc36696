-- Heartbeat; a component marked dead by a peer (it was frozen or cut off) rejoins, one an
-- operator fenced does not (it learns so from previous_state and takes nothing more).
-- Returns the previous state and, when fenced, the operator's reason.
-- $1 component id, $2 when its loop last ran (NULL: keep), $3 details (jsonb)
UPDATE component c
SET last_heartbeat_at = now(), loop_at = coalesce($2, c.loop_at), details = $3,
    state = CASE WHEN c.state = 'dead' THEN 'running' ELSE c.state END,
    dead_at = CASE WHEN c.state = 'fenced' THEN c.dead_at END
FROM (SELECT state FROM component WHERE id = $1 FOR UPDATE) AS previous
WHERE c.id = $1
RETURNING previous.state AS previous_state, c.fence_reason
