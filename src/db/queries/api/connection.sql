-- One connection, without its password (only whether it has one). $1 conn_id
SELECT conn_id, conn_type, host, port, login, schema, extra, description, updated_at, password_encrypted IS NOT NULL AS has_password
FROM connection WHERE conn_id = $1
