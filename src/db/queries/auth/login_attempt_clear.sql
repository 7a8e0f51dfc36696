-- A successful login: the username's count starts again.
-- $1 username
DELETE FROM login_attempt WHERE username = $1
