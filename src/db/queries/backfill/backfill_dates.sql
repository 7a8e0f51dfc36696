-- A backfill's logical dates in order, with what was done and the state of each run.
-- $1 backfill id
SELECT r.sort_ordinal, r.logical_date, r.data_interval_start, r.data_interval_end, r.action, r.state, r.dag_run_id, dr.state AS run_state, r.reason
FROM backfill_run r
LEFT JOIN dag_run dr ON dr.id = r.dag_run_id
WHERE r.backfill_id = $1
ORDER BY r.sort_ordinal
