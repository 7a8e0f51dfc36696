-- How long the rest of this transaction waits for a lock before failing with 55P03
-- (SET LOCAL lock_timeout). $1 milliseconds as text ('0': no limit)
SELECT set_config('lock_timeout', $1, true)
