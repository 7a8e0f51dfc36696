-- Who this server is: cluster (system identifier), the timeline it writes on
-- (keel_current_timeline(), migration 0009: a primary's from its current WAL file, exact
-- right after a promotion; a standby's from its last checkpoint), whether it is in
-- recovery, its address as this connection sees it and when its postmaster started.
-- No parameters.
SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
       keel_current_timeline() AS timeline,
       pg_is_in_recovery() AS in_recovery,
       coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local') AS address,
       pg_postmaster_start_time()::text AS started_at
