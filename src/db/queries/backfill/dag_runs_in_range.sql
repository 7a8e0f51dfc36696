-- A DAG's runs whose logical date is within [from, to], whatever made them.
-- $1 dag_id, $2 from (timestamptz), $3 to (timestamptz)
SELECT id, logical_date, state FROM dag_run
WHERE dag_id = $1 AND logical_date BETWEEN $2 AND $3
ORDER BY logical_date
