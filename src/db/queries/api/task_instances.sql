-- Task instances across runs, newest first, and the total count matching them.
-- $1 dag_id, $2 state (each NULL: any), $3 limit, $4 offset
SELECT t.id, t.dag_id, t.dag_run_id AS run_id, t.task_id, t.state, t.try_number, t.max_tries, t.pool, t.queue,
       t.started_at, t.ended_at, t.error, count(*) OVER ()::int AS total
FROM task_instance t
WHERE ($1::text IS NULL OR t.dag_id = $1) AND ($2::text IS NULL OR t.state = $2)
ORDER BY t.id DESC LIMIT $3 OFFSET $4
