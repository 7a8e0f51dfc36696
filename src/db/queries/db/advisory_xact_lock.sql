-- Wait for a transaction-level advisory lock (released at commit or rollback).
-- $1 lock key (bigint)
SELECT pg_advisory_xact_lock($1)
