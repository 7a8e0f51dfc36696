-- Serializes the stores of one DAG id (taken before any dag row lock, in id order), so
-- that two files defining the same id, parsed at once by two processors or two loaders,
-- cannot both pass the "already defined in another file" check.
-- $1 lock class (DAG_ID_LOCK_CLASS), $2 dag_id
SELECT pg_advisory_xact_lock($1::int, hashtext($2))
