-- Start the oldest queued runs of one DAG, up to its max_active_runs.
-- $1 dag_id, $2 max_active_runs. Returns the started run ids.
UPDATE dag_run SET state = 'running', started_at = now()
WHERE id IN (
  SELECT id FROM dag_run
  WHERE dag_id = $1 AND state = 'queued'
  ORDER BY logical_date
  LIMIT greatest(0, $2 - (SELECT count(*) FROM dag_run WHERE dag_id = $1 AND state = 'running'))
)
RETURNING id
