-- A slice of one attempt's log from a character offset (live tail by offset polling).
-- $1 dag_run id, $2 task_id, $3 try number (NULL: the latest), $4 offset, $5 most characters
SELECT a.attempt_id, a.try_number, a.state, a.hostname, a.started_at, a.ended_at,
       char_length(a.log)::int AS size,
       substring(a.log FROM $4::int + 1 FOR $5::int) AS content,
       char_length(substring(a.log FROM $4::int + 1 FOR $5::int))::int AS content_chars
FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id
WHERE t.dag_run_id = $1 AND t.task_id = $2 AND ($3::int IS NULL OR a.try_number = $3)
ORDER BY a.try_number DESC, a.started_at DESC LIMIT 1
