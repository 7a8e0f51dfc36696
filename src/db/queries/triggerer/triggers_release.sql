-- A stopping triggerer lets go of its triggers so that another takes them at once.
-- $1 triggerer component id
UPDATE trigger SET holder_id = NULL, lease_expires_at = NULL WHERE holder_id = $1 AND state = 'waiting'
