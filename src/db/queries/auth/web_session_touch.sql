-- The user of a live session, sliding its idle timeout. A session idle for longer than
-- the limit, past its absolute expiry, of a disabled user or from before the user's
-- sessions were ended is not returned.
-- $1 session id hash, $2 idle limit in seconds
UPDATE web_session s SET last_seen_at = now()
FROM keel_user u
WHERE s.id_hash = $1 AND u.id = s.user_id AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => $2::float8)
  AND u.disabled_at IS NULL AND s.user_epoch = u.session_epoch
RETURNING u.id, u.username, u.role, s.csrf_token, s.expires_at
