-- Revoke a token: it stops working on every API copy at once.
-- $1 token id, $2 owner's user id (NULL: any owner)
DELETE FROM api_token t USING keel_user u
WHERE t.id = $1 AND u.id = t.user_id AND ($2::bigint IS NULL OR t.user_id = $2)
RETURNING t.id, t.name, u.username
