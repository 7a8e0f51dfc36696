-- A new running backfill. $1 dag_id, $2 from (timestamptz), $3 to (timestamptz),
-- $4 reprocess (none | failed | all), $5 max_active_runs, $6 created_by
INSERT INTO backfill (dag_id, from_date, to_date, reprocess, max_active_runs, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
