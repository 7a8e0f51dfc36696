-- $1 dag_id, $2 next_dagrun_at (NULL: no further scheduled run)
UPDATE dag SET next_dagrun_at = $2 WHERE dag_id = $1
