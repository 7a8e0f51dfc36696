-- How many runs are not finished yet. No parameters.
SELECT count(*)::int AS n FROM dag_run WHERE state IN ('queued', 'running')
