-- Record a callback to run, in the transaction that records its event. The unique key
-- (kind, run, task, seq) makes this idempotent: a second record of one event inserts nothing.
-- $1 kind, $2 dag_run id, $3 task_id ('' for a DAG-level callback), $4 seq (try number,
-- run end number, 0 for a deadline), $5 queue, $6 context (jsonb)
INSERT INTO callback (kind, dag_run_id, dag_id, task_id, seq, queue, context)
SELECT $1, r.id, r.dag_id, $3, $4, $5, $6 FROM dag_run r WHERE r.id = $2
ON CONFLICT (kind, dag_run_id, task_id, seq) DO NOTHING
RETURNING id
