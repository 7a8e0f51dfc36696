-- Store a bundle once: its hash is its content, so an existing row is the same bundle.
-- $1 bundle_hash, $2 entry, $3 files (jsonb: path → source), $4 size_bytes
INSERT INTO dag_bundle (bundle_hash, entry, files, size_bytes) VALUES ($1, $2, $3, $4)
ON CONFLICT (bundle_hash) DO NOTHING
