-- HA events recorded, by kind (the keel_ha_events_total counter). No parameters.
SELECT kind, count(*)::int AS n FROM ha_event GROUP BY kind
