-- Fence components by hand: by id, or every one on a host, that is not stopped or fenced
-- already. Their rows stay locked until the caller's transaction has ended their work.
-- $1 component ids (uuid[], empty: none), $2 hostname (NULL: none), $3 reason (text)
UPDATE component SET state = 'fenced', dead_at = now(), fence_reason = $3
WHERE id IN (
  SELECT id FROM component
  WHERE (id = ANY ($1::uuid[]) OR hostname = $2) AND state NOT IN ('stopped', 'fenced')
  ORDER BY id
  FOR UPDATE)
RETURNING id, role, hostname, pid
