-- How many late writes of fenced attempts were rejected. No parameters.
SELECT count(*)::int AS n FROM ha_event WHERE kind = 'late_write_rejected'
