-- A run's end, decided by its task instances; end_count numbers its ends (a cleared run
-- may end again), the key of its end's callback.
-- $1 dag_run id, $2 final state ('success' | 'failed')
UPDATE dag_run SET state = $2, ended_at = now(), end_count = end_count + 1 WHERE id = $1 AND state = 'running' RETURNING end_count
