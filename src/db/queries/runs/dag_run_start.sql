-- Start one queued run at once (a backfill's, counted against the backfill's own
-- max_active_runs). $1 dag_run id
UPDATE dag_run SET state = 'running', started_at = now() WHERE id = $1 AND state = 'queued'
