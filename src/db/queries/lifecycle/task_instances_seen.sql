-- The task instances of a locked run as an operator's clear or mark sees them (locked, in
-- the order dag_run → task_instance), with whether the last attempt was stopped by an
-- operator and may still be running: its record has no end yet and its worker is alive
-- (not stopped, and its session lock held, or its heartbeat fresh, or within the outage
-- grace: the orphan sweep's judgement, negated).
-- $1 dag_run id, $2 component lock class (COMPONENT_LOCK_CLASS), $3 heartbeat age in
-- seconds after which a worker without its lock is gone (workerLostAfterSec), $4 grace
-- seconds (dbOutageGraceSec)
SELECT t.id, t.task_id, t.state, t.attempt_id, t.try_number,
  coalesce(a.attempt_id IS NOT NULL AND t.state <> 'running' AND a.ended_at IS NULL AND c.state <> 'stopped' AND (
    c.last_heartbeat_at >= now() - make_interval(secs => $3::float8) OR NOT keel_fencing_allowed($4::float8)
    OR keel_session_lock_held($2::int, c.lock_key)), false) AS stopping
FROM task_instance t
LEFT JOIN task_attempt a ON a.attempt_id = t.attempt_id
LEFT JOIN component c ON c.id = a.worker_id
WHERE t.dag_run_id = $1
ORDER BY t.id
FOR UPDATE OF t
