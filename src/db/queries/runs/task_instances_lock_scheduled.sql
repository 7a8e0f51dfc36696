-- Candidates for queueing, highest priority first, with the key of their run's DAG version
-- (for its max_active_tasks).
-- $1 limit
SELECT t.id, t.dag_run_id, t.pool, t.pool_slots, t.priority_weight, t.scheduled_at, r.dag_id, r.version_hash
FROM task_instance t
JOIN dag_run r ON r.id = t.dag_run_id
WHERE t.state = 'scheduled'
ORDER BY t.priority_weight DESC, t.scheduled_at, t.id
LIMIT $1
FOR UPDATE OF t SKIP LOCKED
