-- Every connection, without its password (only whether it has one). No parameters.
SELECT conn_id, conn_type, host, port, login, schema, extra, description, updated_at, password_encrypted IS NOT NULL AS has_password
FROM connection ORDER BY conn_id
