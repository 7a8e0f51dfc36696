-- Slots in use per pool. No parameters.
SELECT pool, sum(pool_slots)::int AS used FROM task_instance WHERE state IN ('queued', 'running') GROUP BY pool
