-- Let go of DAG file leases (rebalancing, or stopping): another processor may take them at once.
-- $1 holder component id, $2 filelocs (text[]) or NULL for every lease it holds
DELETE FROM dag_file_lease WHERE holder_id = $1::uuid AND ($2::text[] IS NULL OR fileloc = ANY ($2::text[]))
