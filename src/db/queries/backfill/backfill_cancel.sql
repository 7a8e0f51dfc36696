-- Cancel a running backfill: the schedulers create no more of its runs (they lock running
-- backfills only, and this waits for one that holds it). $1 backfill id, $2 who
UPDATE backfill SET state = 'cancelled', completed_at = now(), cancelled_by = $2
WHERE id = $1 AND state = 'running'
RETURNING id
