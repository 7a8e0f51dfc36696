-- One owner for "this component's process is gone" (docs/decisions/0002-dead-workers-by-session-lock.md):
-- PostgreSQL drops a session advisory lock the moment its connection closes (kill -9 of the
-- process, a cut network once keepalives give up), and a live component whose session merely
-- reconnects keeps heartbeating. So a component is gone when its session lock (classid
-- COMPONENT_LOCK_CLASS, objid its lock_key, objsubid 2) is not held in this database and
-- its heartbeat is stale. The orphan sweeps of attempts, callbacks, triggers and DAG file
-- leases and the live views all ask these two functions.
CREATE FUNCTION keel_session_lock_held(lock_class integer, lock_key integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = lock_class::oid AND l.objid = lock_key::oid AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;

CREATE FUNCTION keel_component_gone(last_heartbeat_at timestamptz, lock_key integer, stale_sec float8, lock_class integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT last_heartbeat_at < now() - make_interval(secs => stale_sec) AND NOT keel_session_lock_held(lock_class, lock_key)
$$;
