-- The whole chaos ledger, for the checker. No parameters.
SELECT dag_id, run_id, task_id, attempt_id, try_number, event, at FROM keel_chaos_history
