-- Keep every version a run may be created from, with the bundle its task code comes from.
-- $1 dag_id, $2 version_hash, $3 serialized (jsonb), $4 bundle_hash
INSERT INTO dag_version (dag_id, version_hash, serialized, bundle_hash) VALUES ($1, $2, $3, $4)
ON CONFLICT (dag_id, version_hash) DO NOTHING
