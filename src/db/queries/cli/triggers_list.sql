-- Triggers, newest first, with their task (`keel triggers list`). $1 limit, $2 state (text or NULL)
SELECT tr.id, tr.state, tr.dag_id, r.run_id, ti.task_id, tr.spec->>'kind' AS kind, tr.holder_id, tr.holder_count,
       tr.created_at, tr.timeout_at, tr.fired_at
FROM trigger tr
JOIN task_instance ti ON ti.id = tr.task_instance_id
JOIN dag_run r ON r.id = ti.dag_run_id
WHERE $2::text IS NULL OR tr.state = $2
ORDER BY tr.id DESC
LIMIT $1
