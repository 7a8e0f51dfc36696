-- The component's session-level advisory lock: held while its session lives, released by
-- PostgreSQL the moment the connection closes. $1 lock class (COMPONENT_LOCK_CLASS), $2 lock key
SELECT pg_try_advisory_lock($1, $2) AS ok
