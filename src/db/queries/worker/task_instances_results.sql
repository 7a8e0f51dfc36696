-- Results of upstream task instances. $1 dag_run ids (bigint[]), $2 task ids (text[]), pairwise
SELECT t.dag_run_id, t.task_id, t.result
FROM task_instance t
JOIN unnest($1::bigint[], $2::text[]) AS k (dag_run_id, task_id) ON k.dag_run_id = t.dag_run_id AND k.task_id = t.task_id
