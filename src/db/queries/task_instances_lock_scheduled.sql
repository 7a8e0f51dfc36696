-- Candidates for queueing, highest priority first, with their run's max_active_tasks.
-- $1 limit
SELECT t.id, t.dag_run_id, t.pool, t.pool_slots, t.priority_weight, t.scheduled_at,
       (v.serialized ->> 'maxActiveTasks')::int AS max_active_tasks
FROM task_instance t
JOIN dag_run r ON r.id = t.dag_run_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE t.state = 'scheduled'
ORDER BY t.priority_weight DESC, t.scheduled_at, t.id
LIMIT $1
FOR UPDATE OF t SKIP LOCKED
