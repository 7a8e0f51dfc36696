-- The user of a valid API token; marks it used. $1 token hash
UPDATE api_token t SET last_used_at = now()
FROM keel_user u
WHERE t.token_hash = $1 AND u.id = t.user_id AND (t.expires_at IS NULL OR t.expires_at > now())
RETURNING u.id, u.username, u.role
