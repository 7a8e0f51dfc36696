-- Change a user's role; its sessions and tokens keep working with the new role (a token
-- never ranks above its user). $1 username, $2 role
UPDATE keel_user SET role = $2 WHERE username = $1 RETURNING id, username, role, disabled_at IS NOT NULL AS disabled
