-- Which of these DAG ids another active file already defines.
-- $1 dag ids (text[]), $2 fileloc of the file being stored
SELECT dag_id, fileloc FROM dag WHERE dag_id = ANY($1::text[]) AND is_active AND fileloc <> $2
