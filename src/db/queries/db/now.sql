-- The database clock at the start of the current transaction (now()). No parameters.
SELECT now()
