-- Running backfills of active, unpaused DAGs that no other scheduler holds, with how many
-- of their runs are active and how many dates are still planned; a scheduler drives the
-- ones it locked (lock order: backfill → dag_run). $1 limit
SELECT b.id, b.dag_id, b.max_active_runs, b.reprocess, b.created_by, d.serialized, d.version_hash,
  (SELECT count(*) FROM backfill_run r JOIN dag_run dr ON dr.id = r.dag_run_id
   WHERE r.backfill_id = b.id AND r.state = 'started' AND dr.state IN ('queued', 'running'))::int AS active,
  (SELECT count(*) FROM backfill_run r WHERE r.backfill_id = b.id AND r.state = 'planned')::int AS planned
FROM backfill b
JOIN dag d ON d.dag_id = b.dag_id
WHERE b.state = 'running' AND d.is_active AND NOT d.is_paused
ORDER BY b.id
LIMIT $1
FOR UPDATE OF b SKIP LOCKED
