-- The replicas streaming from this server (run on the primary; none on a standby), with
-- their lag in bytes and in time (NULL time lags: the replica is idle and caught up).
-- No parameters.
SELECT application_name AS name, coalesce(host(client_addr), 'local') AS address, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_lag_bytes,
       extract(epoch FROM replay_lag)::float8 AS replay_lag_sec,
       extract(epoch FROM write_lag)::float8 AS write_lag_sec
FROM pg_stat_replication
WHERE NOT pg_is_in_recovery()
ORDER BY application_name
