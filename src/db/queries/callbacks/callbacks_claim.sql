-- Claim pending callbacks for one worker: a new claim id (the fencing token its end is
-- conditional on) and a lease each. Rows another worker is claiming are skipped.
-- $1 queues (text[]), $2 limit, $3 worker component id, $4 lease seconds
WITH candidate AS (
  SELECT id FROM callback
  WHERE state = 'pending' AND queue = ANY ($1::text[])
  ORDER BY id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE callback c
  SET state = 'running', claim_id = gen_random_uuid(), worker_id = $3, claims = c.claims + 1, started_at = now(),
      lease_expires_at = now() + make_interval(secs => $4::float8)
  FROM candidate
  WHERE c.id = candidate.id
  RETURNING c.id, c.kind, c.dag_run_id, c.dag_id, c.task_id, c.seq, c.context, c.claim_id, c.claims
)
SELECT c.*, r.run_id, r.logical_date, r.params, r.version_hash, d.fileloc, v.bundle_hash, b.entry AS bundle_entry
FROM claimed c
JOIN dag_run r ON r.id = c.dag_run_id
JOIN dag d ON d.dag_id = c.dag_id
JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
LEFT JOIN dag_bundle b ON b.bundle_hash = v.bundle_hash
