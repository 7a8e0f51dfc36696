-- Running runs to examine: runs named in a wake-up first, then the ones examined longest
-- ago. A run held by another scheduler is skipped, never waited for.
-- $1 preferred run ids (bigint[]), $2 limit
SELECT r.id, r.dag_id, v.serialized, now() AS now
FROM dag_run r
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
JOIN dag d ON d.dag_id = r.dag_id
WHERE r.state = 'running' AND NOT d.is_paused
ORDER BY (r.id = ANY ($1::bigint[])) DESC, r.last_scheduling_decision NULLS FIRST
LIMIT $2
FOR UPDATE OF r SKIP LOCKED
