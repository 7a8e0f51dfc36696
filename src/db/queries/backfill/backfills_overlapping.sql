-- Running backfills of a DAG whose range overlaps [from, to] (the DAG row is locked by the
-- caller, so two creations of one DAG's backfills take turns and the second sees the first).
-- $1 dag_id, $2 from (timestamptz), $3 to (timestamptz)
SELECT id, from_date, to_date, created_by FROM backfill
WHERE dag_id = $1 AND state = 'running' AND from_date <= $3 AND to_date >= $2
ORDER BY id
