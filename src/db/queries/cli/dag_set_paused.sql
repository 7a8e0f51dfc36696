-- Pause or unpause a DAG; returns the dag_id when it exists. $1 dag_id, $2 paused (boolean)
UPDATE dag SET is_paused = $2 WHERE dag_id = $1 RETURNING dag_id
