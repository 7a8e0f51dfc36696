-- Heartbeat; a component marked dead by a peer (it was frozen or cut off) rejoins.
-- Returns the previous state.
-- $1 component id, $2 when its loop last ran (NULL: keep), $3 details (jsonb)
UPDATE component c
SET last_heartbeat_at = now(), loop_at = coalesce($2, c.loop_at), details = $3,
    state = CASE WHEN c.state = 'dead' THEN 'running' ELSE c.state END, dead_at = NULL
FROM (SELECT state FROM component WHERE id = $1 FOR UPDATE) AS previous
WHERE c.id = $1
RETURNING previous.state AS previous_state
