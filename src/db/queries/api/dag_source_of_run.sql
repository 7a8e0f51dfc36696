-- The source a run executes (the UI's code view): the bundle of its DAG version, the DAG
-- file and the local modules it imports, as the dag-processor stored them. No bundle: a
-- version stored before bundles existed. $1 dag_run id
SELECT r.id AS run_id, r.dag_id, r.version_hash, v.bundle_hash, b.entry, b.files, b.size_bytes, d.fileloc
FROM dag_run r
LEFT JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
LEFT JOIN dag_bundle b ON b.bundle_hash = v.bundle_hash
LEFT JOIN dag d ON d.dag_id = r.dag_id
WHERE r.id = $1
