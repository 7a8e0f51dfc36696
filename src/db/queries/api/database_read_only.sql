-- Whether the database refuses writes: a standby (in recovery), or read-only by setting
-- (default_transaction_read_only). No parameters.
SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS read_only
