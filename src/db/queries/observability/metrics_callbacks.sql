-- Callbacks that ended, by kind and outcome (the keel_callbacks_total counter). No parameters.
SELECT kind, state, count(*)::int AS n FROM callback WHERE state IN ('success', 'failed') GROUP BY kind, state
