-- Waiting triggers whose task instance no longer waits on them (the run was cancelled, the
-- task cleared or removed) are cancelled. No parameters.
UPDATE trigger tr SET state = 'cancelled', holder_id = NULL, lease_expires_at = NULL
WHERE tr.state = 'waiting'
  AND NOT EXISTS (SELECT 1 FROM task_instance ti WHERE ti.id = tr.task_instance_id AND ti.attempt_id = tr.attempt_id AND ti.state = 'deferred')
