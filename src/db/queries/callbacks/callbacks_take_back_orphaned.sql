-- Running callbacks whose worker process is gone (its session advisory lock released, its
-- heartbeat stale; as for attempts, fencing/task_instances_lock_orphaned.sql): pending again
-- for another worker, or failed after $5 claims. Not within the grace period after a
-- database disruption. Rows another scheduler holds are skipped.
-- $1 limit, $2 grace seconds (dbOutageGraceSec), $3 heartbeat age in seconds that counts
-- as stale (workerLostAfterSec), $4 component lock class (COMPONENT_LOCK_CLASS), $5 most
-- claims per callback
WITH lost AS (
  SELECT cb.id, cb.claim_id, cb.worker_id FROM callback cb
  JOIN component c ON c.id = cb.worker_id
  WHERE cb.state = 'running'
    AND keel_component_gone(c.last_heartbeat_at, c.lock_key, $3::float8, $4::int)
    AND keel_fencing_allowed($2::float8)
  ORDER BY cb.id
  LIMIT $1
  FOR UPDATE OF cb SKIP LOCKED
)
UPDATE callback c
SET state = CASE WHEN c.claims >= $5 THEN 'failed' ELSE 'pending' END,
    claim_id = NULL, worker_id = NULL, lease_expires_at = NULL,
    ended_at = CASE WHEN c.claims >= $5 THEN now() END,
    error = CASE WHEN c.claims >= $5 THEN format('its worker was lost during each of its %s claims', c.claims) END
FROM lost
WHERE c.id = lost.id
RETURNING c.id, c.kind, c.dag_run_id, c.task_id, c.state, c.queue, lost.claim_id, lost.worker_id
