-- Every trigger, for the checker. No parameters.
SELECT id, task_instance_id, state FROM trigger
