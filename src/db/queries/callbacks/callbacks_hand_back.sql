-- A stopping worker gives its unfinished callbacks back: pending again, the claim not
-- counted. $1 claim ids (uuid[]). Returns the queues to wake.
UPDATE callback SET state = 'pending', claim_id = NULL, worker_id = NULL, lease_expires_at = NULL, claims = claims - 1
WHERE claim_id = ANY ($1::uuid[]) AND state = 'running'
RETURNING queue
