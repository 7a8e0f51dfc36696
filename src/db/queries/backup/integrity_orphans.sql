-- Integrity (`keel backup verify`): rows whose parent is missing (a task instance without its
-- run, an attempt without its task instance, a run without its DAG or DAG version), by kind.
-- No parameters.
SELECT 'task_instance without dag_run' AS kind, count(*)::int AS n FROM task_instance t WHERE NOT EXISTS (SELECT 1 FROM dag_run r WHERE r.id = t.dag_run_id)
UNION ALL
SELECT 'task_attempt without task_instance', count(*)::int FROM task_attempt a WHERE NOT EXISTS (SELECT 1 FROM task_instance t WHERE t.id = a.task_instance_id)
UNION ALL
SELECT 'dag_run without dag', count(*)::int FROM dag_run r WHERE NOT EXISTS (SELECT 1 FROM dag d WHERE d.dag_id = r.dag_id)
UNION ALL
SELECT 'dag_run without dag_version', count(*)::int FROM dag_run r WHERE NOT EXISTS (SELECT 1 FROM dag_version v WHERE v.dag_id = r.dag_id AND v.version_hash = r.version_hash)
