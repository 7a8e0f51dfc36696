-- The user of a live session without sliding its idle timeout: while the database is
-- read-only (src/api/writability.ts). Same conditions as web_session_touch.
-- $1 session id hash, $2 idle limit in seconds
SELECT u.id, u.username, u.role, s.csrf_token, s.expires_at
FROM web_session s JOIN keel_user u ON u.id = s.user_id
WHERE s.id_hash = $1 AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => $2::float8)
  AND u.disabled_at IS NULL AND s.user_epoch = u.session_epoch
