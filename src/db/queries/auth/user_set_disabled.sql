-- Disable a user (its sessions and tokens end and it cannot log in) or enable it again.
-- $1 username, $2 disabled (boolean)
WITH u AS (
  UPDATE keel_user SET disabled_at = CASE WHEN $2::boolean THEN coalesce(disabled_at, now()) END,
                       session_epoch = session_epoch + CASE WHEN $2::boolean THEN 1 ELSE 0 END
  WHERE username = $1
  RETURNING id, username, role, disabled_at IS NOT NULL AS disabled
), s AS (
  DELETE FROM web_session WHERE $2::boolean AND user_id = (SELECT id FROM u)
), t AS (
  DELETE FROM api_token WHERE $2::boolean AND user_id = (SELECT id FROM u)
)
SELECT * FROM u
