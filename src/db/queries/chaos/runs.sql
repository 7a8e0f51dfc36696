-- Every run, for the checker. No parameters.
SELECT id, dag_id, logical_date, state FROM dag_run
