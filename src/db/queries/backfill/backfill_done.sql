-- Every date of a running backfill has ended. $1 backfill id
UPDATE backfill SET state = 'done', completed_at = now() WHERE id = $1 AND state = 'running'
