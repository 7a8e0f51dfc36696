-- Recent HA events about the database itself: failovers and restarts seen by components,
-- primary changes, components found on a demoted or isolated primary.
-- $1 limit
SELECT e.at, e.kind, c.role, c.hostname, e.details
FROM ha_event e LEFT JOIN component c ON c.id = e.component_id
WHERE e.kind IN ('failover_detected', 'db_primary_changed', 'db_isolated_primary', 'db_demoted_primary', 'db_primary_confirmed')
ORDER BY e.id DESC LIMIT $1
