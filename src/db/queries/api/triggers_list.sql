-- Triggers of deferred tasks, newest first, with their task, holder and the total count.
-- $1 state, $2 dag_run id, $3 task_id (each NULL: any), $4 limit, $5 offset
SELECT tr.id, tr.state, tr.spec, tr.dag_id, ti.dag_run_id AS run_id, r.run_id AS run_name, ti.task_id,
       tr.holder_id, c.hostname AS holder_hostname, c.pid AS holder_pid, tr.holder_count,
       tr.created_at, tr.timeout_at, tr.lease_expires_at, tr.fired_at, count(*) OVER ()::int AS total
FROM trigger tr
JOIN task_instance ti ON ti.id = tr.task_instance_id
JOIN dag_run r ON r.id = ti.dag_run_id
LEFT JOIN component c ON c.id = tr.holder_id
WHERE ($1::text IS NULL OR tr.state = $1) AND ($2::bigint IS NULL OR ti.dag_run_id = $2) AND ($3::text IS NULL OR ti.task_id = $3)
ORDER BY tr.id DESC LIMIT $4 OFFSET $5
