-- The user behind a session in Redis, with what decides whether the session still counts.
-- $1 user id
SELECT id, username, role, disabled_at IS NOT NULL AS disabled, session_epoch FROM keel_user WHERE id = $1
