-- The live components for `keel ha audit`: role, the node and zone their heartbeat details
-- name (KEEL_NODE_NAME, KEEL_ZONE; the hostname when the node is not given) and a worker's
-- slots. $1 heartbeat age in seconds after which a component is not counted (componentDeadAfterSec)
SELECT role, coalesce(details ->> 'node', hostname) AS node, details ->> 'zone' AS zone,
       coalesce((details ->> 'capacity')::int, 0) AS capacity
FROM component
WHERE state = 'running' AND last_heartbeat_at > now() - make_interval(secs => $1::float8)
ORDER BY role, node
