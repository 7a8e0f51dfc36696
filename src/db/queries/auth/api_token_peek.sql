-- The user of a valid API token without marking it used: while the database is read-only
-- (src/api/writability.ts). Same conditions and role as api_token_use.
-- $1 token hash
SELECT u.id, u.username,
  CASE WHEN array_position(ARRAY['viewer', 'op', 'admin'], coalesce(t.role, u.role)) < array_position(ARRAY['viewer', 'op', 'admin'], u.role)
       THEN t.role ELSE u.role END AS role,
  t.id AS token_id, t.expires_at
FROM api_token t JOIN keel_user u ON u.id = t.user_id
WHERE t.token_hash = $1 AND u.disabled_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
