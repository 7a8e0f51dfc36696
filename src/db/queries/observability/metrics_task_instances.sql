-- Task instances not yet final, by state and queue (the keel_task_instances gauge). No parameters.
SELECT state, queue, count(*)::int AS n FROM task_instance WHERE state IN ('scheduled', 'queued', 'running', 'deferred', 'up_for_retry') GROUP BY state, queue
