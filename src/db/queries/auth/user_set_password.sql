-- Change a user's password and end its browser sessions (its API tokens stay).
-- $1 username, $2 password hash
WITH u AS (
  UPDATE keel_user SET password_hash = $2, session_epoch = session_epoch + 1 WHERE username = $1
  RETURNING id, username, role, disabled_at IS NOT NULL AS disabled
), s AS (
  DELETE FROM web_session WHERE user_id = (SELECT id FROM u)
)
SELECT * FROM u
