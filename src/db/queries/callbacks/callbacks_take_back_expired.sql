-- Running callbacks whose lease expired (their worker died, froze or was cut off): pending
-- again for another worker, or failed after $3 claims. Not within the grace period after
-- a database disruption. Rows another scheduler holds are skipped.
-- $1 limit, $2 grace seconds (dbOutageGraceSec), $3 most claims per callback
WITH lost AS (
  SELECT id, claim_id, worker_id FROM callback
  WHERE state = 'running' AND lease_expires_at < now() AND keel_fencing_allowed($2::float8)
  ORDER BY id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE callback c
SET state = CASE WHEN c.claims >= $3 THEN 'failed' ELSE 'pending' END,
    claim_id = NULL, worker_id = NULL, lease_expires_at = NULL,
    ended_at = CASE WHEN c.claims >= $3 THEN now() END,
    error = CASE WHEN c.claims >= $3 THEN format('its worker was lost during each of its %s claims', c.claims) END
FROM lost
WHERE c.id = lost.id
RETURNING c.id, c.kind, c.dag_run_id, c.task_id, c.state, c.queue, lost.claim_id, lost.worker_id
