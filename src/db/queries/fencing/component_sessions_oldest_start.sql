-- When the oldest database session that holds a component's session lock now began. A
-- session that has lasted since before an orphan's last heartbeat shows that no disruption
-- ended every session since then (src/fencing/grace.ts orphanProvenGone). NULL when there is
-- none, or when pg_stat_activity hides other roles' sessions from this one.
-- $1 component lock class (COMPONENT_LOCK_CLASS)
SELECT min(a.backend_start) AS oldest
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
