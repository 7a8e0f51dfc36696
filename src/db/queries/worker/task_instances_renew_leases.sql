-- Renew the leases of a worker's running attempts. An attempt missing from the result
-- was fenced: its worker must stop it.
-- $1 attempt ids (uuid[]), $2 lease seconds
UPDATE task_instance SET lease_expires_at = now() + make_interval(secs => $2::float8)
WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'
RETURNING attempt_id
