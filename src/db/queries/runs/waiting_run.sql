-- What a run's progress depends on, for the reasons `keel runs show`, the API and the UI
-- give (src/core/waiting.ts). Limits come from the run's own DAG version.
-- $1 dag_run id
SELECT r.state AS run_state, r.dag_id, d.is_paused AS dag_paused,
  COALESCE(n.maintenance, false) AS maintenance, n.maintenance_message,
  (v.serialized ->> 'maxActiveRuns')::int AS max_active_runs,
  (v.serialized ->> 'maxActiveTasks')::int AS max_active_tasks,
  (SELECT count(*)::int FROM dag_run o WHERE o.dag_id = r.dag_id AND o.state = 'running') AS running_runs_of_dag,
  (SELECT count(*)::int FROM dag_run o WHERE o.dag_id = r.dag_id AND o.state = 'queued' AND o.logical_date < r.logical_date) AS queued_runs_before,
  (SELECT count(*)::int FROM task_instance t WHERE t.dag_run_id = r.id AND t.state IN ('queued', 'running')) AS active_tasks_of_run,
  v.serialized -> 'tasks' AS tasks
FROM dag_run r
JOIN dag d ON d.dag_id = r.dag_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
LEFT JOIN operator_notice n ON n.id
WHERE r.id = $1
