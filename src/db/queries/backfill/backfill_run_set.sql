-- What a scheduler did with a planned date. $1 backfill id, $2 sort_ordinal, $3 state
-- (started | skipped), $4 dag_run id (or NULL), $5 reason (or NULL)
UPDATE backfill_run SET state = $3, dag_run_id = coalesce($4, dag_run_id), reason = $5
WHERE backfill_id = $1 AND sort_ordinal = $2 AND state = 'planned'
