-- The queued or running runs a backfill started. $1 backfill id
SELECT dr.id FROM backfill_run r JOIN dag_run dr ON dr.id = r.dag_run_id
WHERE r.backfill_id = $1 AND r.state = 'started' AND dr.state IN ('queued', 'running')
ORDER BY r.sort_ordinal
