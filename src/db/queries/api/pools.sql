-- Pools with their use. No parameters.
SELECT p.name, p.slots, p.description,
       coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'running'), 0)::int AS running_slots,
       coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'queued'), 0)::int AS queued_slots
FROM pool p LEFT JOIN task_instance t ON t.pool = p.name AND t.state IN ('queued', 'running')
GROUP BY p.name ORDER BY p.name
