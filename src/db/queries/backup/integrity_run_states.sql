-- Integrity (`keel backup verify`): runs whose state contradicts their task instances: a
-- finished run (success, failed) with a task instance not final, or a queued run with one
-- started. $1 the final task states (text[], FINAL_TASK_STATES)
SELECT r.id::text, r.dag_id, r.run_id, r.state, t.task_id, t.state AS task_state
FROM dag_run r JOIN task_instance t ON t.dag_run_id = r.id
WHERE (r.state IN ('success', 'failed') AND NOT t.state = ANY ($1::text[]))
   OR (r.state = 'queued' AND t.state IN ('running', 'deferred'))
ORDER BY r.id, t.task_id LIMIT 20
