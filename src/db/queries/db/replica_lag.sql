-- How far the read replica is behind: whether it has replayed the primary's WAL position,
-- else how old its last replayed commit is. Run on the replica.
-- $1 the primary's WAL position (pg_lsn as text)
SELECT pg_is_in_recovery() AS in_recovery,
       coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught_up,
       (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_age_ms
