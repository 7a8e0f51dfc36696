-- Running backfills of active, unpaused DAGs that no other scheduler holds; a scheduler
-- drives the ones it locked (lock order: backfill → dag_run). Their counts are read by a
-- later statement (backfill_counts): this one's snapshot may predate the commit of the
-- scheduler that held a row a moment ago. $1 limit
SELECT b.id, b.dag_id, b.max_active_runs, b.reprocess, b.created_by, d.serialized, d.version_hash
FROM backfill b
JOIN dag d ON d.dag_id = b.dag_id
WHERE b.state = 'running' AND d.is_active AND NOT d.is_paused
ORDER BY b.id
LIMIT $1
FOR UPDATE OF b SKIP LOCKED
