-- Create or replace a connection; returns it without its password.
-- $1 conn_id, $2 conn_type, $3 host, $4 port, $5 login, $6 schema, $7 extra, $8 encrypted password (NULL: none),
-- $9 description, $10 keep the stored password (an edit that does not send the write-only password again)
INSERT INTO connection (conn_id, conn_type, host, port, login, schema, extra, password_encrypted, description)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (conn_id) DO UPDATE SET conn_type = EXCLUDED.conn_type, host = EXCLUDED.host, port = EXCLUDED.port, login = EXCLUDED.login,
  schema = EXCLUDED.schema, extra = EXCLUDED.extra, description = EXCLUDED.description, updated_at = now(),
  password_encrypted = CASE WHEN $10::boolean THEN connection.password_encrypted ELSE EXCLUDED.password_encrypted END
RETURNING conn_id, conn_type, host, port, login, schema, extra, description, updated_at, password_encrypted IS NOT NULL AS has_password
