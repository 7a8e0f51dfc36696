-- A user with its password hash. $1 username
SELECT id, username, role, password_hash FROM keel_user WHERE username = $1
