-- Frees the DAG-file leases the given DAG processors hold, for another processor to take.
-- $1 component ids (uuid[])
DELETE FROM dag_file_lease WHERE holder_id = ANY ($1::uuid[]) RETURNING fileloc
