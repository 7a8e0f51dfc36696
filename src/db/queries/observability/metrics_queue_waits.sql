-- Queued task instances per queue, with how long the oldest has waited and how many live
-- workers take that queue (the keel_task_queue_oldest_wait_seconds and
-- keel_queue_workers gauges: a queue with tasks and no workers is work nobody can take).
-- Queues of live workers come from their heartbeat details (`queues`). No parameters.
WITH waiting AS (
  SELECT queue, count(*)::int AS queued, extract(epoch FROM now() - min(queued_at))::float8 AS oldest_sec
  FROM task_instance WHERE state = 'queued' GROUP BY queue
), served AS (
  SELECT q AS queue, count(*)::int AS workers
  FROM component c CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(c.details->'queues', '[]'::jsonb)) AS q
  WHERE c.state = 'running' AND c.role IN ('worker', 'standalone')
  GROUP BY q
)
SELECT coalesce(w.queue, s.queue) AS queue, coalesce(w.queued, 0) AS queued, coalesce(w.oldest_sec, 0) AS oldest_sec, coalesce(s.workers, 0) AS workers
FROM waiting w FULL JOIN served s ON s.queue = w.queue
