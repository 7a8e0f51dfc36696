-- Active, unpaused DAGs whose next scheduled run is due; each scheduler takes the ones
-- no other scheduler holds.
-- $1 limit. Returns the server's now() so that due times use the database clock.
SELECT dag_id, serialized, version_hash, now() AS now
FROM dag
WHERE is_active AND NOT is_paused AND next_dagrun_at <= now()
ORDER BY next_dagrun_at
LIMIT $1
FOR UPDATE SKIP LOCKED
