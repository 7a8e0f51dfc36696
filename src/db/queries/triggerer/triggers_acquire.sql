-- A triggerer takes waiting triggers that nobody holds, whose holder's lease expired, or
-- whose holder is gone (its session lock released and its heartbeat stale: killed). Rows
-- another triggerer is taking are skipped. Triggers whose task instance no longer waits on
-- them are left to triggers_cancel_orphaned. A triggerer an operator fenced takes nothing.
-- $1 triggerer component id, $2 limit, $3 lease seconds, $4 heartbeat age in seconds after
-- which a holder without its session lock counts as gone, $5 component lock class
WITH candidate AS (
  SELECT tr.id, tr.holder_id AS previous_holder
  FROM trigger tr
  JOIN task_instance ti ON ti.id = tr.task_instance_id AND ti.attempt_id = tr.attempt_id AND ti.state = 'deferred'
  LEFT JOIN component c ON c.id = tr.holder_id
  WHERE tr.state = 'waiting'
    AND NOT EXISTS (SELECT 1 FROM component fc WHERE fc.id = $1::uuid AND fc.state = 'fenced')
    AND (tr.holder_id IS NULL
         OR tr.lease_expires_at < now()
         OR c.id IS NULL
         OR c.state IN ('stopped', 'dead', 'fenced')
         OR keel_component_gone(c.last_heartbeat_at, c.lock_key, $4::float8, $5::int))
  ORDER BY tr.id
  LIMIT $2
  FOR UPDATE OF tr SKIP LOCKED
)
UPDATE trigger t
SET holder_id = $1, lease_expires_at = now() + make_interval(secs => $3::float8), holder_count = t.holder_count + 1
FROM candidate c
WHERE t.id = c.id
RETURNING t.id, t.task_instance_id, t.dag_id, t.fileloc, t.spec, t.timeout_at, t.created_at, c.previous_holder
