-- Runs with filters, newest first, and the total count matching them.
-- $1 dag_id, $2 state, $3 run_type, $4 logical date from, $5 logical date to (each NULL: any),
-- $6 limit, $7 offset
SELECT id, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, params,
       created_at, started_at, ended_at, count(*) OVER ()::int AS total
FROM dag_run
WHERE ($1::text IS NULL OR dag_id = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR run_type = $3)
  AND ($4::timestamptz IS NULL OR logical_date >= $4) AND ($5::timestamptz IS NULL OR logical_date < $5)
ORDER BY logical_date DESC, id DESC
LIMIT $6 OFFSET $7
