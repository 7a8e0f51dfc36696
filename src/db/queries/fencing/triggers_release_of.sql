-- Frees the triggers the given triggerers hold, for another triggerer to take at once.
-- $1 triggerer component ids (uuid[])
UPDATE trigger SET holder_id = NULL, lease_expires_at = NULL
WHERE holder_id = ANY ($1::uuid[]) AND state = 'waiting'
RETURNING id
