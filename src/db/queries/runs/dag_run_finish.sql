-- $1 dag_run id, $2 final state ('success' | 'failed')
UPDATE dag_run SET state = $2, ended_at = now() WHERE id = $1 AND state = 'running'
