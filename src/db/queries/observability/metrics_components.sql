-- Live components per role and host (the keel_components gauge). No parameters.
SELECT role, hostname, count(*)::int AS n FROM component WHERE state = 'running' GROUP BY role, hostname
