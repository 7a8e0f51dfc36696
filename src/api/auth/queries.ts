// Statements of users, API tokens and browser sessions.

/** $1 username, $2 password hash, $3 role. Returns the new user. */
export const USER_INSERT = `
INSERT INTO keel_user (username, password_hash, role) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id, username, role, created_at`;

/** $1 username */
export const USER_BY_NAME = `SELECT id, username, role, password_hash FROM keel_user WHERE username = $1`;

/** $1 user id */
export const USER_BY_ID = `SELECT id, username, role FROM keel_user WHERE id = $1`;

/** No parameters. */
export const USER_COUNT = `SELECT count(*)::int AS n FROM keel_user`;

/** $1 user id, $2 token name, $3 token hash, $4 lifetime in seconds or NULL (never expires) */
export const TOKEN_INSERT = `
INSERT INTO api_token (user_id, name, token_hash, expires_at)
VALUES ($1, $2, $3, CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $4::float8) END)
RETURNING id, name, created_at, expires_at`;

/** API tokens (never the token itself), newest first. $1 user id (NULL: every user's) */
export const TOKENS_LIST = `
SELECT t.id, u.username, t.name, t.created_at, t.expires_at, t.last_used_at,
       (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired
FROM api_token t JOIN keel_user u ON u.id = t.user_id
WHERE ($1::bigint IS NULL OR t.user_id = $1)
ORDER BY t.created_at DESC, t.id DESC`;

/** Revoke a token: it stops working on every API copy at once. $1 token id, $2 owner's user id (NULL: any owner) */
export const TOKEN_REVOKE = `
DELETE FROM api_token t USING keel_user u
WHERE t.id = $1 AND u.id = t.user_id AND ($2::bigint IS NULL OR t.user_id = $2)
RETURNING t.id, t.name, u.username`;

/** The user of a valid API token; marks it used. $1 token hash */
export const TOKEN_USE = `
UPDATE api_token t SET last_used_at = now()
FROM keel_user u
WHERE t.token_hash = $1 AND u.id = t.user_id AND (t.expires_at IS NULL OR t.expires_at > now())
RETURNING u.id, u.username, u.role`;

/** $1 session id hash, $2 user id, $3 CSRF token, $4 absolute lifetime in seconds */
export const SESSION_INSERT = `
INSERT INTO web_session (id_hash, user_id, csrf_token, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8))`;

/**
 * The user of a live session, sliding its idle timeout. A session idle for longer than
 * the limit, or past its absolute expiry, is not returned.
 * $1 session id hash, $2 idle limit in seconds
 */
export const SESSION_TOUCH = `
UPDATE web_session s SET last_seen_at = now()
FROM keel_user u
WHERE s.id_hash = $1 AND u.id = s.user_id AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => $2::float8)
RETURNING u.id, u.username, u.role, s.csrf_token`;

/** $1 session id hash */
export const SESSION_DELETE = `DELETE FROM web_session WHERE id_hash = $1`;

/** Expired sessions, swept now and then by any API copy. $1 idle limit in seconds */
export const SESSIONS_SWEEP = `
DELETE FROM web_session WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1::float8)`;
