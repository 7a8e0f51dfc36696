-- The database as Keel sees it. No parameters.
SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END AS role,
       current_setting('server_version') AS version,
       pg_postmaster_start_time() AS server_started_at,
       (SELECT last_disruption_at FROM keel_cluster) AS last_disruption_at
