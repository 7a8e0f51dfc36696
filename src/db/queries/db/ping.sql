-- Whether the database answers at all. No parameters.
SELECT 1
