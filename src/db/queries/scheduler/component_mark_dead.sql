-- Components whose heartbeat is older than the threshold are dead (they rejoin if they
-- heartbeat again). Not within the grace period after a disruption, when every heartbeat
-- is stale at once. Rows being updated elsewhere are skipped, never waited for.
-- $1 threshold seconds (componentDeadAfterSec), $2 grace seconds (dbOutageGraceSec)
UPDATE component SET state = 'dead', dead_at = now()
WHERE id IN (
  SELECT id FROM component
  WHERE state IN ('running', 'stopping')
    AND last_heartbeat_at < now() - make_interval(secs => $1::float8)
    AND keel_fencing_allowed($2::float8)
  ORDER BY id
  FOR UPDATE SKIP LOCKED)
RETURNING id, role, hostname, pid, last_heartbeat_at
