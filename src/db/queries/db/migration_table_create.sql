-- The migration table, created before the first migration runs. No parameters.
CREATE TABLE IF NOT EXISTS keel_migration (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)
