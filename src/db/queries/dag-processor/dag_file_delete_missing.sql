-- Files that disappeared from the DAGs folder: deactivate their DAGs, forget the file and
-- its lease. Only rows last parsed before the listing was taken count as gone, so a
-- processor whose listing is older than another processor's parse deactivates nothing.
-- $1 filelocs present in the listing (text[]), $2 when the listing was taken (database clock)
WITH gone AS (
  DELETE FROM dag_file WHERE fileloc <> ALL ($1::text[]) AND (last_parsed_at IS NULL OR last_parsed_at < $2::timestamptz) RETURNING fileloc
), leases AS (
  DELETE FROM dag_file_lease WHERE fileloc <> ALL ($1::text[]) AND acquired_at < $2::timestamptz RETURNING fileloc
)
UPDATE dag SET is_active = false
WHERE is_active AND (fileloc IN (SELECT fileloc FROM gone) OR (fileloc <> ALL ($1::text[]) AND last_parsed_at < $2::timestamptz))
RETURNING dag_id
