-- The server's role and version (the health document). No parameters.
SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END AS role, current_setting('server_version') AS version
