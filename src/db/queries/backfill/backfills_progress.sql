-- Backfills with their progress, newest first: one by id, a DAG's, or all. A started date
-- counts by the state of its run; skipped dates have ended too.
-- $1 backfill id (bigint or NULL), $2 dag_id (or NULL), $3 limit
SELECT b.id, b.dag_id, b.from_date, b.to_date, b.reprocess, b.max_active_runs, b.state, b.created_by, b.created_at, b.completed_at, b.cancelled_by,
  count(r.sort_ordinal)::int AS total,
  count(*) FILTER (WHERE r.state = 'planned')::int AS planned,
  count(*) FILTER (WHERE r.state = 'skipped')::int AS skipped,
  count(*) FILTER (WHERE r.state = 'started' AND dr.state IN ('queued', 'running'))::int AS active,
  count(*) FILTER (WHERE r.state = 'started' AND dr.state = 'success')::int AS success,
  count(*) FILTER (WHERE r.state = 'started' AND dr.state = 'failed')::int AS failed
FROM backfill b
LEFT JOIN backfill_run r ON r.backfill_id = b.id
LEFT JOIN dag_run dr ON dr.id = r.dag_run_id
WHERE ($1::bigint IS NULL OR b.id = $1) AND ($2::text IS NULL OR b.dag_id = $2)
GROUP BY b.id
ORDER BY b.id DESC
LIMIT $3
