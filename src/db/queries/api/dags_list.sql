-- DAGs with their schedule, tags, next run and five latest runs with their times (the API's DAG list).
-- $1 paused (boolean; NULL: any), $2 include inactive DAGs (boolean)
SELECT d.dag_id, d.fileloc, d.is_paused, d.is_active, d.next_dagrun_at, d.last_parsed_at,
       d.serialized -> 'schedule' AS schedule, d.serialized -> 'tags' AS tags,
       d.serialized ->> 'description' AS description,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'runName', r.run_id, 'state', r.state, 'logicalDate', r.logical_date, 'startedAt', r.started_at, 'endedAt', r.ended_at) ORDER BY r.logical_date DESC)
                 FROM (SELECT id, run_id, state, logical_date, started_at, ended_at FROM dag_run WHERE dag_id = d.dag_id ORDER BY logical_date DESC LIMIT 5) r), '[]') AS recent_runs
FROM dag d
WHERE ($1::boolean IS NULL OR d.is_paused = $1) AND ($2::boolean OR d.is_active)
ORDER BY d.dag_id
