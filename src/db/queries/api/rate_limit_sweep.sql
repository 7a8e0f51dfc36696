-- Forget rate-limit windows that ended long ago. No parameters.
DELETE FROM rate_limit WHERE window_start < now() - interval '1 hour'
