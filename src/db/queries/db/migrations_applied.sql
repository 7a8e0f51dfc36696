-- The migrations applied so far. No parameters.
SELECT version, name, applied_at FROM keel_migration ORDER BY version
