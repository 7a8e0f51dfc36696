-- Store a new API token (its hash only).
-- $1 user id, $2 token name, $3 token hash, $4 lifetime in seconds or NULL (never expires)
INSERT INTO api_token (user_id, name, token_hash, expires_at)
VALUES ($1, $2, $3, CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $4::float8) END)
RETURNING id, name, created_at, expires_at
