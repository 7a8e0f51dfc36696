-- Record a callback's end, conditional on its claim id: a claim that was taken back changes
-- nothing (no row returned). $1 callback id, $2 claim id, $3 state (success | failed),
-- $4 error (text or NULL), $5 log
UPDATE callback SET state = $3, error = $4, log = $5, ended_at = now(), lease_expires_at = NULL
WHERE id = $1 AND claim_id = $2 AND state = 'running'
RETURNING id
