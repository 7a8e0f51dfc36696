-- Trigger takeovers: when, and from which holders. No parameters.
SELECT at, ARRAY(SELECT jsonb_array_elements_text(details -> 'from')) AS "from" FROM ha_event WHERE kind = 'triggers_taken_over'
