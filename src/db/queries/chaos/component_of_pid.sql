-- The component a process registered as (its latest). $1 pid
SELECT id FROM component WHERE pid = $1 AND state IN ('running', 'dead') ORDER BY started_at DESC LIMIT 1
