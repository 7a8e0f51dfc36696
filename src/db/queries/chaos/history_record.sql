-- A chaos task attempt records a side effect. $1 dag_id, $2 run_id, $3 task_id, $4 attempt_id,
-- $5 try_number, $6 event ('start', 'finish', 'defer', 'resume')
INSERT INTO keel_chaos_history (dag_id, run_id, task_id, attempt_id, try_number, event) VALUES ($1, $2, $3, $4, $5, $6)
