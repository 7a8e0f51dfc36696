-- Runs whose deadline has passed while unfinished (or that finished after it) and that no
-- scheduler has judged yet, locked; a run another transaction holds is skipped.
-- $1 limit
SELECT r.id, r.dag_id, r.run_id, r.state, r.deadline_at, v.serialized
FROM dag_run r
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
WHERE r.deadline_at IS NOT NULL AND r.deadline_missed_at IS NULL AND (r.ended_at IS NULL OR r.ended_at > r.deadline_at)
  AND r.deadline_at <= now()
ORDER BY r.deadline_at
LIMIT $1
FOR UPDATE OF r SKIP LOCKED
