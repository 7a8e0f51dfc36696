-- Task attempts that ended, by DAG and final state of the attempt (the keel_task_attempts_total
-- counter: attempts are never deleted, so the count only grows). No parameters.
SELECT ti.dag_id, a.state, count(*)::int AS n
FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id
WHERE a.state <> 'running'
GROUP BY ti.dag_id, a.state
