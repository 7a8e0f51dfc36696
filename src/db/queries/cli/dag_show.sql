-- One DAG with its current serialized version. $1 dag_id
SELECT dag_id, fileloc, is_paused, is_active, version_hash, serialized, next_dagrun_at, last_parsed_at FROM dag WHERE dag_id = $1
