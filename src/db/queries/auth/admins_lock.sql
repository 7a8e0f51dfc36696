-- The enabled admins, locked, so that two concurrent changes cannot both remove the last
-- one. No parameters.
SELECT id, username FROM keel_user WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE
