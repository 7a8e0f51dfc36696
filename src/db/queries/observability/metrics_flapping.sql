-- Components declared dead and rejoining in the window (the keel_component_flaps and
-- keel_components_flapping gauges): one row per component with at least one flap, a flap being
-- a component_rejoined event (a component that another declared dead found it was alive).
-- $1 window in seconds (float8).
SELECT e.component_id::text AS component_id, coalesce(c.role, 'unknown') AS role, count(*)::int AS flaps
FROM ha_event e LEFT JOIN component c ON c.id = e.component_id
WHERE e.kind = 'component_rejoined' AND e.at > now() - make_interval(secs => $1::float8)
GROUP BY e.component_id, c.role
