-- Which of these runs are still running (hinted runs another transaction held). $1 run ids (bigint[])
SELECT id FROM dag_run WHERE id = ANY ($1::bigint[]) AND state = 'running'
