-- The attempt slots a window needed: the most attempts running at once (at any attempt's
-- start) and the mean over the window. $1 window in seconds
WITH a AS (
  SELECT greatest(started_at, now() - make_interval(secs => $1::float8)) AS s, coalesce(ended_at, now()) AS e
  FROM task_attempt
  WHERE coalesce(ended_at, now()) > now() - make_interval(secs => $1::float8)
)
SELECT coalesce((SELECT max(n) FROM (SELECT (SELECT count(*) FROM a b WHERE b.s <= x.s AND b.e > x.s) AS n FROM a x) peaks), 0)::int AS peak_running,
       coalesce(sum(extract(epoch FROM e - s)) / $1::float8, 0)::float8 AS mean_running
FROM a
