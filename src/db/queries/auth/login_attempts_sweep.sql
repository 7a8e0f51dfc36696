-- Forget usernames whose last login was over a day ago (and whose wait is over).
-- No parameters.
DELETE FROM login_attempt WHERE last_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())
