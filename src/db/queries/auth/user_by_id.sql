-- A user. $1 user id
SELECT id, username, role FROM keel_user WHERE id = $1
