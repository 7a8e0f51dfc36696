-- Running runs to examine, locked; a run held by another scheduler (or a worker ending a
-- task of it) is skipped, never waited for. The hinted runs (named in wake-ups), and on a
-- periodic turn also the runs that need a look: never examined, a retry due, or not
-- examined for $3 seconds (the safety net for lost notifications).
-- $1 hinted run ids (bigint[]), $2 limit, $3 seconds after which any running run is
-- examined again, $4 periodic turn (boolean)
SELECT r.id, r.dag_id, r.version_hash
FROM dag_run r
JOIN dag d ON d.dag_id = r.dag_id
WHERE r.state = 'running' AND NOT d.is_paused
  AND (r.id = ANY ($1::bigint[])
       OR ($4::boolean AND (
         r.last_scheduling_decision IS NULL
         OR r.last_scheduling_decision < now() - make_interval(secs => $3::float8)
         OR EXISTS (SELECT 1 FROM task_instance t
                    WHERE t.dag_run_id = r.id AND t.state = 'up_for_retry' AND t.next_retry_at <= now()))))
ORDER BY (r.id = ANY ($1::bigint[])) DESC, r.last_scheduling_decision NULLS FIRST
LIMIT $2
FOR UPDATE OF r SKIP LOCKED
