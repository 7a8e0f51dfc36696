-- One audit row per changed task instance (or run, task_id NULL).
-- $1 actor, $2 action, $3 dag_id, $4 dag_run id, $5 task ids (text[], NULL entries for
-- the run), $6 from states (text[]), $7 to states (text[]), $8 try numbers (int[]),
-- $9 attempt ids (uuid[]), $10 details (jsonb, the same for every row)
INSERT INTO lifecycle_audit (actor, action, dag_id, dag_run_id, task_id, from_state, to_state, try_number, attempt_id, details)
SELECT $1, $2, $3, $4, k.task_id, k.from_state, k.to_state, k.try_number, k.attempt_id, $10
FROM unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::uuid[]) AS k (task_id, from_state, to_state, try_number, attempt_id)
