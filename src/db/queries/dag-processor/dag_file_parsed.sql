-- Record a parse of a DAG file: what it defines, or why it could not be loaded.
-- $1 fileloc, $2 content_hash, $3 dag_ids (text[]), $4 import_error (NULL when fine)
INSERT INTO dag_file (fileloc, content_hash, dag_ids, last_parsed_at, import_error, import_error_at)
VALUES ($1, $2, $3, now(), $4, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END)
ON CONFLICT (fileloc) DO UPDATE
SET content_hash = EXCLUDED.content_hash,
    dag_ids = CASE WHEN EXCLUDED.import_error IS NULL THEN EXCLUDED.dag_ids ELSE dag_file.dag_ids END,
    last_parsed_at = now(),
    import_error = EXCLUDED.import_error,
    import_error_at = EXCLUDED.import_error_at
