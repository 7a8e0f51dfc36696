-- A cleared run runs again (a queued one stays queued). $1 dag_run id
UPDATE dag_run SET state = 'running', ended_at = NULL WHERE id = $1 AND state IN ('success', 'failed')
