-- Move chosen task instances to queued and wake the workers of their queues.
-- $1 ids (bigint[]). Returns one row per queue that got work.
WITH q AS (
  UPDATE task_instance SET state = 'queued', queued_at = now()
  WHERE id = ANY ($1::bigint[]) AND state = 'scheduled'
  RETURNING queue
)
SELECT queue, pg_notify('keel_queued', queue) FROM (SELECT DISTINCT queue FROM q) AS queues
