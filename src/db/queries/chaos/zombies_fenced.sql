-- The attempts fenced as zombies, and when. No parameters.
SELECT details ->> 'attemptId' AS "attemptId", at FROM ha_event WHERE kind = 'zombie_fenced'
