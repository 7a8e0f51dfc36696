-- The hits of a rate-limit key in its current window, without counting one.
-- $1 key, $2 window length in milliseconds
SELECT CASE WHEN window_start <= now() - make_interval(secs => $2::float8 / 1000) THEN 0 ELSE hits END AS hits,
       greatest(0, extract(epoch FROM window_start + make_interval(secs => $2::float8 / 1000) - now()) * 1000)::float8 AS ttl_ms
FROM rate_limit WHERE key = $1
