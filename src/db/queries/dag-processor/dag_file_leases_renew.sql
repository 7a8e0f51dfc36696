-- Renew every DAG file lease this processor still holds. Returns the filelocs held.
-- $1 holder component id, $2 lease seconds
UPDATE dag_file_lease SET expires_at = now() + make_interval(secs => $2::float8)
WHERE holder_id = $1::uuid
RETURNING fileloc
