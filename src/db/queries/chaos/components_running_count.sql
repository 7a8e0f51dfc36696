-- How many components are running. No parameters.
SELECT count(*)::int AS n FROM component WHERE state = 'running'
