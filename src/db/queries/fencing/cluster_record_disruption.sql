-- Record a disruption (a reconnect after losing the database) and the timeline this
-- server writes on now; fencing waits dbOutageGraceSec after it (keel_fencing_allowed()).
-- No parameters.
UPDATE keel_cluster SET last_disruption_at = now(), timeline = keel_current_timeline()
