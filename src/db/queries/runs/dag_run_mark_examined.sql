-- $1 dag_run ids (bigint[])
UPDATE dag_run SET last_scheduling_decision = now() WHERE id = ANY ($1::bigint[])
