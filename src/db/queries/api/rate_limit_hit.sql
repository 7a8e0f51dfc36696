-- Count one request against a rate-limit key in a fixed window that starts at the key's
-- first request (database clock, so every API copy counts in the same window).
-- Returns the hits so far and the milliseconds left in the window.
-- $1 key, $2 window length in milliseconds
INSERT INTO rate_limit AS r (key, window_start, hits) VALUES ($1, now(), 1)
ON CONFLICT (key) DO UPDATE SET
  window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2::float8 / 1000) THEN now() ELSE r.window_start END,
  hits = CASE WHEN r.window_start <= now() - make_interval(secs => $2::float8 / 1000) THEN 1 ELSE r.hits + 1 END
RETURNING hits, greatest(0, extract(epoch FROM window_start + make_interval(secs => $2::float8 / 1000) - now()) * 1000)::float8 AS ttl_ms
