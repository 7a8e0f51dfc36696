-- Backups taken by `keel backup --to DIR` (docs/disaster-recovery.md): one row per finished
-- backup, written to the database that was backed up once the copy is complete, so the
-- age of the last one is a metric (keel_backup_last_age_seconds) every copy reports.
CREATE TABLE keel_backup (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  target text NOT NULL,
  manifest jsonb NOT NULL
);
