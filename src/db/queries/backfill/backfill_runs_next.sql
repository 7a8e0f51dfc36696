-- The next planned dates of a backfill, in order. $1 backfill id, $2 limit
SELECT sort_ordinal, logical_date, data_interval_start, data_interval_end, action, dag_run_id
FROM backfill_run
WHERE backfill_id = $1 AND state = 'planned'
ORDER BY sort_ordinal
LIMIT $2
