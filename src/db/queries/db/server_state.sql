-- What a server is, for a connection choosing among the hosts of a URL: the answer to
-- target_session_attrs, and the timeline a primary writes on (two writable hosts after a
-- failover: the newer timeline wins; 0 for a standby). No parameters.
-- The timeline is spelt out here rather than through keel_current_timeline() (migration
-- 0009): this probe runs on every connection, also to servers whose database is not
-- migrated yet (`keel db migrate` itself connects this way).
SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') = 'on' AS read_only,
       CASE WHEN pg_is_in_recovery() THEN 0 ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline
