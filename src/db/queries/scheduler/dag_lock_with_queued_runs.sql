-- Unpaused DAGs that have queued runs, locked so that one scheduler at a time counts and
-- starts their runs against max_active_runs.
-- $1 limit
SELECT dag_id, (serialized ->> 'maxActiveRuns')::int AS max_active_runs
FROM dag
WHERE NOT is_paused AND dag_id IN (SELECT dag_id FROM dag_run WHERE state = 'queued')
ORDER BY dag_id
LIMIT $1
FOR UPDATE SKIP LOCKED
