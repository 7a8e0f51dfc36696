-- An operator's mark or cancel ends a run. $1 dag_run id, $2 new state (success | failed)
UPDATE dag_run SET state = $2, ended_at = now(), started_at = coalesce(started_at, now()) WHERE id = $1 AND state <> $2 RETURNING id
