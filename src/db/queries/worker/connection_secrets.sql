-- What a worker masks in task logs from connections: encrypted passwords and extra fields. No parameters.
SELECT conn_id, password_encrypted, extra
FROM connection
WHERE password_encrypted IS NOT NULL OR extra <> '{}'::jsonb
