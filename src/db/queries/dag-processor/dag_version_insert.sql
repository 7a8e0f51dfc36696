-- Keep every version a run may be created from.
-- $1 dag_id, $2 version_hash, $3 serialized (jsonb)
INSERT INTO dag_version (dag_id, version_hash, serialized) VALUES ($1, $2, $3)
ON CONFLICT (dag_id, version_hash) DO NOTHING
