-- The logical date of a DAG's latest scheduled run (NULL: none yet). $1 dag_id
SELECT max(logical_date) AS d FROM dag_run WHERE dag_id = $1 AND run_type = 'scheduled'
