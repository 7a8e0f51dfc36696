-- How many of a locked backfill's runs are active and how many dates are still planned.
-- $1 backfill id
SELECT
  (SELECT count(*) FROM backfill_run r JOIN dag_run dr ON dr.id = r.dag_run_id
   WHERE r.backfill_id = $1 AND r.state = 'started' AND dr.state IN ('queued', 'running'))::int AS active,
  (SELECT count(*) FROM backfill_run r WHERE r.backfill_id = $1 AND r.state = 'planned')::int AS planned
