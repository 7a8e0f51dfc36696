-- Task instances that are neither final nor clearable right now.
-- $1 dag_run id, $2 task ids (text[]) or NULL (every task)
SELECT task_id, state FROM task_instance
WHERE dag_run_id = $1 AND ($2::text[] IS NULL OR task_id = ANY ($2::text[])) AND state IN ('queued', 'running', 'deferred')
