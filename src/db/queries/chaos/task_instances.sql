-- Every task instance, for the checker. No parameters.
SELECT id, dag_run_id, task_id, state, attempt_id FROM task_instance
