-- A cancelled run fails. $1 dag_run id
UPDATE dag_run SET state = 'failed', ended_at = now() WHERE id = $1 AND state IN ('queued', 'running') RETURNING id
