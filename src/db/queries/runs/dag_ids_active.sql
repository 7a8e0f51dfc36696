-- Some active DAG ids, for the message about an unknown one. No parameters.
SELECT dag_id FROM dag WHERE is_active ORDER BY dag_id LIMIT 20
