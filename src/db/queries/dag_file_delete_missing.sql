-- Files that disappeared from the DAGs folder: deactivate their DAGs, forget the file.
-- $1 filelocs still present (text[]). Returns the deactivated dag_ids.
WITH gone AS (
  DELETE FROM dag_file WHERE fileloc <> ALL ($1::text[]) RETURNING fileloc
)
UPDATE dag SET is_active = false
WHERE is_active AND (fileloc IN (SELECT fileloc FROM gone) OR fileloc <> ALL ($1::text[]))
RETURNING dag_id
