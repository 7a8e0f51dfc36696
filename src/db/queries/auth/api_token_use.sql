-- The user of a valid API token (not expired, user not disabled); marks it used. The role
-- is the lower of the token's and its user's, so a demoted user's tokens are demoted too.
-- $1 token hash
UPDATE api_token t SET last_used_at = now()
FROM keel_user u
WHERE t.token_hash = $1 AND u.id = t.user_id AND u.disabled_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
RETURNING u.id, u.username,
  CASE WHEN array_position(ARRAY['viewer', 'op', 'admin'], coalesce(t.role, u.role)) < array_position(ARRAY['viewer', 'op', 'admin'], u.role)
       THEN t.role ELSE u.role END AS role,
  t.id AS token_id, t.expires_at
