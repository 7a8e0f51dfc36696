-- Waiting triggers that no live triggerer holds (no holder, or the holder's lease expired):
-- the keel_triggers_unheld gauge; with enough triggerers this stays near 0. No parameters.
SELECT count(*)::int AS n FROM trigger
WHERE state = 'waiting' AND (holder_id IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now())
