-- The verdict on a run's deadline: missed (recorded once). $1 dag_run id
UPDATE dag_run SET deadline_missed_at = now() WHERE id = $1 AND deadline_missed_at IS NULL RETURNING id
