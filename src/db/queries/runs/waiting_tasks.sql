-- The task instances of one run with what each waits on: its pool's slots and use, and the
-- live workers that take its queue (from their heartbeat details: queues, capacity,
-- runningAttempts). For src/core/waiting.ts.
-- $1 dag_run id
WITH workers AS (
  SELECT details -> 'queues' AS queues,
         COALESCE((details ->> 'capacity')::int, 0) - COALESCE(jsonb_array_length(details -> 'runningAttempts'), 0) AS free
  FROM component
  WHERE role IN ('worker', 'standalone') AND state = 'running' AND jsonb_typeof(details -> 'queues') = 'array'
)
SELECT t.task_id, t.state, t.pool, t.pool_slots, t.queue, t.next_retry_at, t.try_number, t.max_tries,
  p.slots AS pool_total_slots,
  (SELECT COALESCE(sum(o.pool_slots), 0)::int FROM task_instance o WHERE o.pool = t.pool AND o.state IN ('queued', 'running')) AS pool_used_slots,
  (SELECT count(*)::int FROM workers w WHERE w.queues ? t.queue) AS workers_on_queue,
  (SELECT COALESCE(sum(greatest(w.free, 0)), 0)::int FROM workers w WHERE w.queues ? t.queue) AS free_worker_slots_on_queue,
  (SELECT COALESCE(array_agg(DISTINCT q ORDER BY q), '{}') FROM workers w, jsonb_array_elements_text(w.queues) q) AS served_queues
FROM task_instance t
LEFT JOIN pool p ON p.name = t.pool
WHERE t.dag_run_id = $1
ORDER BY t.id
