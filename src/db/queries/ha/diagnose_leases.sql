-- Leases nobody acted on, for `keel ha diagnose`: running attempts and waiting triggers
-- whose lease expired, the live schedulers and triggerers that should act on them, and
-- whether fencing is allowed now (keel_fencing_allowed: not within the outage grace).
-- $1 grace seconds (dbOutageGraceSec), $2 heartbeat age in seconds after which a component is not live
SELECT
  (SELECT count(*)::int FROM task_instance WHERE state = 'running' AND lease_expires_at < now()) AS expired_running,
  (SELECT extract(epoch FROM now() - min(lease_expires_at))::float8 FROM task_instance WHERE state = 'running' AND lease_expires_at < now()) AS oldest_expired_sec,
  (SELECT count(*)::int FROM trigger WHERE state = 'waiting' AND lease_expires_at < now()) AS expired_triggers,
  (SELECT count(*)::int FROM component WHERE role IN ('scheduler', 'standalone') AND state = 'running'
     AND last_heartbeat_at > now() - make_interval(secs => $2::float8)) AS live_schedulers,
  (SELECT count(*)::int FROM component WHERE role IN ('triggerer', 'standalone') AND state = 'running'
     AND last_heartbeat_at > now() - make_interval(secs => $2::float8)) AS live_triggerers,
  keel_fencing_allowed($1::float8) AS fencing_allowed
