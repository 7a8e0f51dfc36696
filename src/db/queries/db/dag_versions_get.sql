-- $1 dag_ids (text[]), $2 version_hashes (text[]), pairwise
SELECT v.dag_id, v.version_hash, v.serialized
FROM dag_version v
JOIN unnest($1::text[], $2::text[]) AS k (dag_id, version_hash) USING (dag_id, version_hash)
