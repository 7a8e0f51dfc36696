-- Post an external event; posting the same event_id again changes nothing (a retried post).
-- $1 key, $2 event_id, $3 payload (jsonb)
WITH inserted AS (
  INSERT INTO external_event (key, event_id, payload) VALUES ($1, $2, $3)
  ON CONFLICT (event_id) DO NOTHING
  RETURNING id, posted_at
)
SELECT id, posted_at, true AS created FROM inserted
UNION ALL
SELECT id, posted_at, false AS created FROM external_event WHERE event_id = $2 AND NOT EXISTS (SELECT 1 FROM inserted)
