-- A user with its password hash, for the login.
-- $1 username
SELECT id, username, role, password_hash, disabled_at IS NOT NULL AS disabled, session_epoch
FROM keel_user WHERE username = $1
