-- The outage grace also covers a promotion. A promoted replica's postmaster started long
-- ago and its keel_cluster row is the old primary's copy, so neither told a scheduler that
-- every session lock had just vanished: it fenced the attempts of live workers. The
-- timeline the cluster row was last written on tells: until a reconnecting component
-- records the disruption on the new timeline, fencing waits.

-- The timeline this server writes on: a primary's current WAL file (exact right after a
-- promotion, unlike the last checkpoint's), a standby's last checkpoint.
CREATE FUNCTION keel_current_timeline() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
              ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
$$;

ALTER TABLE keel_cluster ADD COLUMN timeline integer;
UPDATE keel_cluster SET timeline = keel_current_timeline();

-- Whether fencing may act on "lock gone" or "lease expired" now: the last disruption and
-- the server's start are longer ago than the grace, and no failover since went unrecorded.
CREATE FUNCTION keel_fencing_allowed(grace_sec float8) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT c.last_disruption_at < now() - make_interval(secs => grace_sec)
     AND pg_postmaster_start_time() < now() - make_interval(secs => grace_sec)
     AND c.timeline IS NOT DISTINCT FROM keel_current_timeline()
  FROM keel_cluster c
$$;
