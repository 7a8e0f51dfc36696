-- The files of one bundle, for a worker's local bundle cache.
-- $1 bundle_hash
SELECT entry, files FROM dag_bundle WHERE bundle_hash = $1
