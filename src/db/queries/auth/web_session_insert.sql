-- A browser session, valid while its user's session epoch stays the one it was made with.
-- $1 session id hash, $2 user id, $3 CSRF token, $4 absolute lifetime in seconds, $5 the user's session epoch
INSERT INTO web_session (id_hash, user_id, csrf_token, expires_at, user_epoch)
VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8), $5)
