-- Whether the migration table exists (NULL: a database Keel never migrated). No parameters.
SELECT to_regclass('keel_migration') AS t
