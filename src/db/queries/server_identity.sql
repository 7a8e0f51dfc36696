-- Who this server is: cluster (system identifier), the timeline it writes on (a primary:
-- from its current WAL file name, exact right after a promotion; a standby: the last
-- checkpoint's), whether it is in recovery, its address as this connection sees it and
-- when its postmaster started. No parameters.
SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
       CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
       pg_is_in_recovery() AS in_recovery,
       coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local') AS address,
       pg_postmaster_start_time()::text AS started_at
