-- Runs that missed their deadline, by DAG (the keel_dag_run_deadlines_missed_total counter:
-- a verdict is recorded once and never undone). No parameters.
SELECT dag_id, count(*)::int AS n FROM dag_run WHERE deadline_missed_at IS NOT NULL GROUP BY dag_id
