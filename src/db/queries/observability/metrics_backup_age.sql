-- Seconds since the last finished backup (`keel backup`), NULL when there was none (the
-- keel_backup_last_age_seconds gauge). No parameters.
SELECT extract(epoch FROM now() - max(finished_at))::float8 AS age FROM keel_backup
