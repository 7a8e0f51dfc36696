-- Store a new browser session (its id's hash only).
-- $1 session id hash, $2 user id, $3 CSRF token, $4 absolute lifetime in seconds
INSERT INTO web_session (id_hash, user_id, csrf_token, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8))
