-- A page of variables by key, with the total count.
-- $1 limit, $2 offset
SELECT key, value, description, updated_at, count(*) OVER ()::int AS total
FROM variable ORDER BY key LIMIT $1 OFFSET $2
