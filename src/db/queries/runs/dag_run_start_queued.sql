-- Start the oldest queued runs of one DAG, up to its max_active_runs. A backfill's runs are
-- neither started here nor counted: their backfill's max_active_runs bounds them.
-- $1 dag_id, $2 max_active_runs. Returns the started run ids.
UPDATE dag_run SET state = 'running', started_at = now()
WHERE id IN (
  SELECT id FROM dag_run
  WHERE dag_id = $1 AND state = 'queued' AND run_type <> 'backfill'
  ORDER BY logical_date
  LIMIT greatest(0, $2 - (SELECT count(*) FROM dag_run WHERE dag_id = $1 AND state = 'running' AND run_type <> 'backfill'))
)
RETURNING id
