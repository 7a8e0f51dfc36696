-- An operator's mark or cancel (or a run timeout) ends a run; end_count numbers its ends.
-- $1 dag_run id, $2 new state (success | failed)
UPDATE dag_run SET state = $2, ended_at = now(), started_at = coalesce(started_at, now()), end_count = end_count + 1 WHERE id = $1 AND state <> $2 RETURNING id, end_count
