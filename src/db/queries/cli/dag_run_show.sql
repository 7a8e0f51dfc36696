-- One run. $1 dag_run id
SELECT id, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, params, version_hash, created_at, started_at, ended_at, deadline_at, deadline_missed_at FROM dag_run WHERE id = $1
