-- Close a fired trigger. $1 trigger id, $2 state (fired | timed_out | failed | cancelled),
-- $3 outcome (jsonb), $4 triggerer component id
UPDATE trigger SET state = $2, event = $3, fired_at = now(), fired_by = $4, holder_id = NULL, lease_expires_at = NULL
WHERE id = $1
