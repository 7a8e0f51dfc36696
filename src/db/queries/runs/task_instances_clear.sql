-- Clear task instances in a final state so that they run again; each gets its retries
-- afresh on top of the tries it already used.
-- $1 dag_run id, $2 task ids (text[]) or NULL for all
UPDATE task_instance t
SET state = 'pending',
    max_tries = t.try_number + 1 + coalesce((
      SELECT (task ->> 'retries')::int
      FROM dag_run r
      JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
      CROSS JOIN jsonb_array_elements(v.serialized -> 'tasks') AS task
      WHERE r.id = t.dag_run_id AND task ->> 'taskId' = t.task_id), 0),
    result = NULL, error = NULL, next_retry_at = NULL, next_event = NULL, scheduled_at = NULL, queued_at = NULL, ended_at = NULL
WHERE t.dag_run_id = $1 AND ($2::text[] IS NULL OR t.task_id = ANY ($2::text[]))
  AND t.state IN ('success', 'failed', 'skipped', 'upstream_failed', 'up_for_retry')
RETURNING task_id
