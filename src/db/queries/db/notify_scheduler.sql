-- Wake the schedulers about a run (delivered at commit). $1 dag_run id (text)
SELECT pg_notify('keel_scheduler', $1)
