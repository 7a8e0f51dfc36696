-- Create a DAG run (queued until max_active_runs allows it to start). The unique
-- constraints on (dag_id, logical_date), (dag_id, run_id) and trigger_key make this
-- idempotent: a second scheduler or a repeated trigger gets no row back.
-- $1 dag_id, $2 run_id, $3 run_type, $4 logical_date, $5 data_interval_start,
-- $6 data_interval_end, $7 params (jsonb), $8 version_hash, $9 trigger_key (uuid or NULL),
-- $10 deadline_at (timestamptz or NULL)
INSERT INTO dag_run (dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end, state, params, version_hash, trigger_key, deadline_at)
VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10)
ON CONFLICT DO NOTHING
RETURNING id, run_id
