-- What a backup's manifest says of the server at the backup's start: its system identifier,
-- timeline and the database Keel uses. No parameters.
SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
       keel_current_timeline() AS timeline, current_database() AS database,
       current_setting('server_version') AS server_version, now() AS at
