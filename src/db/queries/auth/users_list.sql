-- Every user with its state and how many API tokens it has. No parameters.
SELECT u.id, u.username, u.role, u.created_at, u.disabled_at IS NOT NULL AS disabled, u.disabled_at,
       (SELECT count(*)::int FROM api_token t WHERE t.user_id = u.id AND (t.expires_at IS NULL OR t.expires_at > now())) AS live_tokens
FROM keel_user u ORDER BY u.username
