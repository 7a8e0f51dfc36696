-- Record a disruption: a component reached the database again after losing it, or saw the
-- primary change. The time starts the outage grace of keel_fencing_allowed() (migration
-- 0009); the timeline this server now writes on tells a promoted replica's first moments
-- (an unrecorded timeline) from a failover already recorded.
-- No parameters.
UPDATE keel_cluster SET last_disruption_at = now(), timeline = keel_current_timeline()
