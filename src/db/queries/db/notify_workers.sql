-- Wake the workers of a queue (delivered at commit). $1 queue name
SELECT pg_notify('keel_queued', $1)
