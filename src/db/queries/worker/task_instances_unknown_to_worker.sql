-- Attempts the database says a worker runs that the worker does not know of: a claim that
-- committed while its answer was lost with the connection (a failover, a cut connection).
-- The worker hands them back (task_instances_hand_back) instead of leaving them to expire
-- and be fenced as if it had died. Run by the worker's claim loop between claims, so no
-- claim of its own is in flight.
-- $1 worker component id (uuid), $2 attempt ids the worker runs (uuid[])
SELECT attempt_id FROM task_instance
WHERE worker_id = $1 AND state = 'running' AND NOT (attempt_id = ANY ($2::uuid[]))
