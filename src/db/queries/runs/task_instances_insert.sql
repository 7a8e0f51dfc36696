-- One pending task instance per task of a new run.
-- $1 dag_run_id, $2 dag_id, $3 task_ids text[], $4 max_tries int[], $5 pools text[],
-- $6 pool_slots int[], $7 priority_weights int[], $8 queues text[]
INSERT INTO task_instance (dag_run_id, dag_id, task_id, state, max_tries, pool, pool_slots, priority_weight, queue)
SELECT $1, $2, t.task_id, 'pending', t.max_tries, t.pool, t.pool_slots, t.priority_weight, t.queue
FROM unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::int[], $8::text[])
  AS t (task_id, max_tries, pool, pool_slots, priority_weight, queue)
