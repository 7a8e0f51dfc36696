-- Whole seconds until a backing-off username may try again (at least 1).
-- $1 username
SELECT greatest(1, ceil(extract(epoch FROM locked_until - now())))::int AS wait_sec
FROM login_attempt WHERE username = $1
