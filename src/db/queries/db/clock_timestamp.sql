-- The database clock now (clock_timestamp(): it moves within a transaction). No parameters.
SELECT clock_timestamp() AS t
