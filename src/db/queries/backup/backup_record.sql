-- A finished backup (`keel backup`): its start, its folder and its manifest.
-- $1 started at (timestamptz), $2 target folder (text), $3 manifest (jsonb)
INSERT INTO keel_backup (started_at, target, manifest) VALUES ($1, $2, $3)
