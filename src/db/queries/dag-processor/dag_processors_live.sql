-- How many DAG processors (standalone included) are alive: running, heartbeating, and
-- holding their session advisory lock. They share the DAG files evenly.
-- $1 heartbeat age limit in seconds (componentDeadAfterSec), $2 component lock class
SELECT count(*)::int AS n
FROM component c
WHERE c.role IN ('dag-processor', 'standalone') AND c.state = 'running'
  AND c.last_heartbeat_at > now() - make_interval(secs => $1::float8)
  AND EXISTS (
    SELECT 1 FROM pg_locks k
    WHERE k.locktype = 'advisory' AND k.granted AND k.classid = $2::int::oid AND k.objid = c.lock_key::oid AND k.objsubid = 2
      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
