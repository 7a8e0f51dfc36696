-- A backfill's planned logical dates, in order (sort_ordinal from 1); a date that has a run
-- already carries it (the run to clear, or the one kept), a skipped one the reason why.
-- $1 backfill id, then pairwise arrays: $2 logical dates, $3 data interval starts,
-- $4 data interval ends (timestamptz[]), $5 actions (create | clear | skip), $6 existing
-- dag_run ids (bigint[], NULL entries for none), $7 reasons (text[], NULL entries for none)
INSERT INTO backfill_run (backfill_id, sort_ordinal, logical_date, data_interval_start, data_interval_end, action, state, dag_run_id, reason)
SELECT $1, k.ord, k.logical_date, k.start_at, k.end_at, k.action, CASE WHEN k.action = 'skip' THEN 'skipped' ELSE 'planned' END, k.dag_run_id, k.reason
FROM unnest($2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::bigint[], $7::text[])
  WITH ORDINALITY AS k (logical_date, start_at, end_at, action, dag_run_id, reason, ord)
