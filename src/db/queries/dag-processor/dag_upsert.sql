-- Store the current version of a DAG from a successful parse and reactivate it.
-- $1 dag_id, $2 fileloc, $3 version_hash, $4 serialized (jsonb), $5 next_dagrun_at
INSERT INTO dag (dag_id, fileloc, version_hash, serialized, next_dagrun_at, is_active, last_parsed_at)
VALUES ($1, $2, $3, $4, $5, true, now())
ON CONFLICT (dag_id) DO UPDATE
SET fileloc = EXCLUDED.fileloc,
    version_hash = EXCLUDED.version_hash,
    serialized = EXCLUDED.serialized,
    next_dagrun_at = EXCLUDED.next_dagrun_at,
    is_active = true,
    last_parsed_at = now()
