-- A page of connections by id (never the password: only whether one is set), with the total count.
-- $1 limit, $2 offset
SELECT conn_id, conn_type, host, port, login, schema, extra, description, updated_at,
       password_encrypted IS NOT NULL AS has_password, count(*) OVER ()::int AS total
FROM connection ORDER BY conn_id LIMIT $1 OFFSET $2
