-- Cancel a run: its unfinished task instances fail (a running attempt is fenced: its
-- lease renewal and result are rejected, so its worker stops it). $1 dag_run id
UPDATE task_instance SET state = 'failed', error = 'cancelled by a user', ended_at = now(), lease_expires_at = NULL, next_retry_at = NULL
WHERE dag_run_id = $1 AND state IN ('pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry')
RETURNING task_id, attempt_id
