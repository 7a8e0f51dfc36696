-- The DAG version a run executes (the code view): its serialized DAG as the dag-processor
-- stored it when the run was created, and the file it came from. $1 dag_run id
SELECT r.id AS run_id, r.dag_id, r.version_hash, v.created_at, v.serialized, d.fileloc
FROM dag_run r
LEFT JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
LEFT JOIN dag d ON d.dag_id = r.dag_id
WHERE r.id = $1
