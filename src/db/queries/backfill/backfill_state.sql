-- A backfill's state, or no row. $1 backfill id
SELECT id, dag_id, state FROM backfill WHERE id = $1
