-- A new API token. It expires after its lifetime, but never after $6 (the expiry of the
-- token or session that makes it), so that it cannot outlive its maker.
-- $1 user id, $2 token name, $3 token hash, $4 lifetime in seconds, $5 role,
-- $6 latest expiry (timestamptz, NULL: none), $7 id of the token that makes it (NULL: none)
INSERT INTO api_token (user_id, name, token_hash, expires_at, role, parent_id)
VALUES ($1, $2, $3, least(now() + make_interval(secs => $4::float8), $6::timestamptz), $5, $7)
RETURNING id, name, created_at, expires_at, role
