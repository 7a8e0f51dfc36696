-- End every browser session and API token of a user at once, on every API copy (sessions
-- in Redis end with the epoch). Returns how many sessions (in PostgreSQL) and tokens ended.
-- $1 username
WITH u AS (
  UPDATE keel_user SET session_epoch = session_epoch + 1 WHERE username = $1 RETURNING id, username
), s AS (
  DELETE FROM web_session WHERE user_id = (SELECT id FROM u) RETURNING 1
), t AS (
  DELETE FROM api_token WHERE user_id = (SELECT id FROM u) RETURNING 1
)
SELECT u.id, u.username, (SELECT count(*)::int FROM s) AS sessions, (SELECT count(*)::int FROM t) AS tokens FROM u
