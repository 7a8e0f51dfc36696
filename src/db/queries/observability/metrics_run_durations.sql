-- Finished DAG runs as a cumulative histogram of their duration (start to end), by DAG and
-- final state (the keel_dag_run_duration_seconds histogram): one row per (DAG, state, bound)
-- with the runs that took at most `le` seconds, and the sum of all their durations.
-- $1 bucket upper bounds in seconds (float8[], ascending; +Inf is added here).
WITH finished AS (
  SELECT dag_id, state, extract(epoch FROM ended_at - coalesce(started_at, created_at))::float8 AS sec
  FROM dag_run WHERE ended_at IS NOT NULL
)
SELECT f.dag_id, f.state, b.le, (count(*) FILTER (WHERE f.sec <= b.le))::int AS n, sum(f.sec)::float8 AS sum_sec
FROM finished f CROSS JOIN unnest($1::float8[] || 'Infinity'::float8) AS b(le)
GROUP BY f.dag_id, f.state, b.le
