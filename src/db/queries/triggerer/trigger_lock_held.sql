-- Lock a trigger the caller holds and that still waits, before firing it.
-- $1 trigger id, $2 triggerer component id
SELECT id, task_instance_id, attempt_id FROM trigger WHERE id = $1 AND holder_id = $2 AND state = 'waiting' FOR UPDATE
