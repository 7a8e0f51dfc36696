-- Every component not long gone, with its heartbeat age, the attempts, DAG file leases and
-- triggers it holds, and why an operator fenced it. No parameters.
SELECT c.id, c.role, c.hostname, c.pid, c.version, c.state, c.started_at,
       round(extract(epoch FROM now() - c.last_heartbeat_at)::numeric, 1)::float8 AS heartbeat_age_sec,
       (SELECT count(*) FROM task_instance t WHERE t.worker_id = c.id AND t.state = 'running')::int AS running_attempts,
       (SELECT count(*) FROM dag_file_lease l WHERE l.holder_id = c.id AND l.expires_at > now())::int AS file_leases,
       (SELECT count(*) FROM trigger tr WHERE tr.holder_id = c.id AND tr.state = 'waiting')::int AS triggers_held,
       c.fence_reason, c.details
FROM component c
WHERE c.state IN ('running', 'stopping', 'dead', 'fenced') OR c.last_heartbeat_at > now() - interval '1 hour'
ORDER BY c.role, c.started_at
