-- The run a manual trigger with this key created, if an earlier try of the same trigger
-- committed (its COMMIT's answer was lost with the connection).
-- $1 trigger_key (uuid)
SELECT id, dag_id, run_id, logical_date, params FROM dag_run WHERE trigger_key = $1
