-- DAGs of a file that no longer defines them stop being scheduled.
-- $1 fileloc, $2 dag_ids still defined (text[])
UPDATE dag SET is_active = false WHERE fileloc = $1 AND is_active AND dag_id <> ALL ($2::text[])
