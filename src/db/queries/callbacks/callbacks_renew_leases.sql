-- Renew the leases of a worker's running callbacks. A claim missing from the result was
-- taken back (its lease expired): its worker must stop it.
-- $1 claim ids (uuid[]), $2 lease seconds
UPDATE callback SET lease_expires_at = now() + make_interval(secs => $2::float8)
WHERE claim_id = ANY ($1::uuid[]) AND state = 'running'
RETURNING claim_id
