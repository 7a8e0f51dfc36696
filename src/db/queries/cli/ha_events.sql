-- HA events, newest first. $1 limit, $2 kind or NULL (any)
SELECT e.id, e.at, e.kind, c.role, c.hostname, e.component_id, e.details
FROM ha_event e LEFT JOIN component c ON c.id = e.component_id
WHERE ($2::text IS NULL OR e.kind = $2)
ORDER BY e.id DESC LIMIT $1
