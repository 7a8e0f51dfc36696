-- The primary's current WAL position, for the read router's lag check. No parameters.
SELECT pg_current_wal_lsn()::text AS lsn
