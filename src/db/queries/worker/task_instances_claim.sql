-- Claim queued task instances for one worker: a new attempt id (the fencing token) and a
-- lease per attempt, plus the attempt's record, in one statement. Rows another worker is
-- claiming are skipped, never waited for. An instance resuming a deferral (next_event set)
-- continues its try: it gets a new attempt id but the same try number. queue_wait_sec is how
-- long the instance waited in its queue (the keel_task_queue_wait_seconds histogram).
-- A worker an operator fenced (`keel ha fence`) claims nothing, even before its heartbeat tells it.
-- $1 queues (text[]), $2 limit, $3 worker component id, $4 lease seconds, $5 hostname
WITH candidate AS (
  SELECT id FROM task_instance
  WHERE state = 'queued' AND queue = ANY ($1::text[])
    AND NOT EXISTS (SELECT 1 FROM component fc WHERE fc.id = $3::uuid AND fc.state = 'fenced')
  ORDER BY priority_weight DESC, queued_at, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE task_instance t
  SET state = 'running', try_number = t.try_number + CASE WHEN t.next_event IS NULL THEN 1 ELSE 0 END, attempt_id = gen_random_uuid(), worker_id = $3,
      started_at = now(), ended_at = NULL, error = NULL, result = NULL,
      lease_expires_at = now() + make_interval(secs => $4::float8)
  FROM candidate c
  WHERE t.id = c.id
  RETURNING t.id, t.dag_run_id, t.dag_id, t.task_id, t.try_number, t.max_tries, t.attempt_id, t.next_event, t.queue,
    extract(epoch FROM now() - t.queued_at)::float8 AS queue_wait_sec
), recorded AS (
  INSERT INTO task_attempt (attempt_id, task_instance_id, try_number, worker_id, hostname, state)
  SELECT attempt_id, id, try_number, $3, $5, 'running' FROM claimed
)
SELECT c.*, r.run_id, r.logical_date, r.data_interval_start, r.data_interval_end, r.params, r.version_hash, d.fileloc, v.bundle_hash, b.entry AS bundle_entry
FROM claimed c
JOIN dag_run r ON r.id = c.dag_run_id
JOIN dag d ON d.dag_id = c.dag_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
LEFT JOIN dag_bundle b ON b.bundle_hash = v.bundle_hash
