-- API tokens (never the token itself), newest first.
-- $1 user id (NULL: every user's)
SELECT t.id, u.username, t.name, coalesce(t.role, u.role) AS role, t.parent_id, t.created_at, t.expires_at, t.last_used_at,
       (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired
FROM api_token t JOIN keel_user u ON u.id = t.user_id
WHERE ($1::bigint IS NULL OR t.user_id = $1)
ORDER BY t.created_at DESC, t.id DESC
