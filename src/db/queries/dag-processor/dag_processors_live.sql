-- How many DAG processors (standalone included) are alive: running, heartbeating, and
-- holding their session advisory lock. They share the DAG files evenly.
-- $1 heartbeat age limit in seconds (componentDeadAfterSec), $2 component lock class
SELECT count(*)::int AS n
FROM component c
WHERE c.role IN ('dag-processor', 'standalone') AND c.state = 'running'
  AND c.last_heartbeat_at > now() - make_interval(secs => $1::float8)
  AND keel_session_lock_held($2::int, c.lock_key)
