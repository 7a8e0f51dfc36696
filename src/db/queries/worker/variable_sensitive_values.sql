-- Values of the variables whose key looks sensitive, for a worker to mask in task logs. $1 ILIKE patterns of sensitive names (text[])
SELECT value
FROM variable
WHERE key ILIKE ANY($1::text[])
