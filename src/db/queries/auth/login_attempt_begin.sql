-- Count a login of a username before its password is checked, unless the username is
-- backing off. From the $2-th login since the last successful one, the next must wait
-- 1 s, then twice as long after each further one, at most $3 s. Counting before the check
-- makes concurrent guesses count too. No row back: the username must wait (see
-- login_attempt_wait).
-- $1 username, $2 logins before the back-off starts, $3 longest wait in seconds
INSERT INTO login_attempt AS a (username, failures, last_at, locked_until)
VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => least($3::float8, 1)) END)
ON CONFLICT (username) DO UPDATE SET
  failures = a.failures + 1,
  last_at = now(),
  locked_until = CASE WHEN a.failures + 1 >= $2::int
    THEN now() + make_interval(secs => least($3::float8, 2 ^ least(a.failures + 1 - $2::int, 30))) END
WHERE a.locked_until IS NULL OR a.locked_until <= now()
RETURNING failures
