-- Extend the leases of the triggers a triggerer still holds; the ones not returned were
-- taken over, fired or cancelled and are dropped by the caller.
-- $1 trigger ids (bigint[]), $2 triggerer component id, $3 lease seconds
UPDATE trigger SET lease_expires_at = now() + make_interval(secs => $3::float8)
WHERE id = ANY ($1::bigint[]) AND holder_id = $2 AND state = 'waiting'
RETURNING id
