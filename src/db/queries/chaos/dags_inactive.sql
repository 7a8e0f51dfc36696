-- The chaos DAGs that are inactive now (a flap while DAG processors die). $1 dag ids (text[])
SELECT dag_id FROM dag WHERE dag_id = ANY ($1) AND NOT is_active
