-- How many users exist. No parameters.
SELECT count(*)::int AS n FROM keel_user
