-- What the database knows of the last parse of some DAG files, whoever parsed them: a
-- processor that takes a file over parses it only when its content changed or it is due.
-- $1 filelocs (text[])
SELECT fileloc, content_hash, import_error, extract(epoch FROM now() - last_parsed_at)::float8 AS age_sec
FROM dag_file WHERE fileloc = ANY ($1::text[])
