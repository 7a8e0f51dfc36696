-- The first external event with a key, posted at or after a given instant (default: when
-- the deferred task's DAG run was created).
-- $1 key, $2 since (timestamptz or NULL), $3 trigger id
SELECT e.id, e.payload, e.posted_at
FROM external_event e
WHERE e.key = $1
  AND e.posted_at >= coalesce($2::timestamptz, (
    SELECT r.created_at FROM trigger tr
    JOIN task_instance ti ON ti.id = tr.task_instance_id
    JOIN dag_run r ON r.id = ti.dag_run_id
    WHERE tr.id = $3))
ORDER BY e.id
LIMIT 1
