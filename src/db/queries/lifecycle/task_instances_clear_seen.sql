-- Clear task instances back to pending, each only if it is still in the state and holds
-- the attempt the operator saw (compare-and-set); none of them is running. Each gets its
-- retries afresh on top of the tries it already used.
-- $1 task_instance ids (bigint[]), $2 seen states (text[]), $3 seen attempt ids (uuid[],
-- NULL entries for none), pairwise
UPDATE task_instance t
SET state = 'pending',
    max_tries = t.try_number + 1 + coalesce((
      SELECT (task ->> 'retries')::int
      FROM dag_run r
      JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
      CROSS JOIN jsonb_array_elements(v.serialized -> 'tasks') AS task
      WHERE r.id = t.dag_run_id AND task ->> 'taskId' = t.task_id), 0),
    result = NULL, error = NULL, next_retry_at = NULL, next_event = NULL, scheduled_at = NULL, queued_at = NULL, ended_at = NULL
FROM unnest($1::bigint[], $2::text[], $3::uuid[]) AS k (id, state, attempt_id)
WHERE t.id = k.id AND t.state = k.state AND t.attempt_id IS NOT DISTINCT FROM k.attempt_id
  AND t.state IN ('success', 'failed', 'skipped', 'upstream_failed', 'removed', 'up_for_retry')
RETURNING t.task_id
