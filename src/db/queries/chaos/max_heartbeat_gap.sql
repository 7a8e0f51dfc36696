-- The longest heartbeat gap any component saw, except the frozen ones.
-- $1 ids of the frozen components (uuid[])
SELECT max((details ->> 'maxHeartbeatGapMs')::float8) AS gap FROM component WHERE id <> ALL ($1::uuid[])
