-- Create a user; returns the new user (nothing when the name is taken).
-- $1 username, $2 password hash, $3 role
INSERT INTO keel_user (username, password_hash, role) VALUES ($1, $2, $3)
ON CONFLICT (username) DO NOTHING
RETURNING id, username, role, created_at
