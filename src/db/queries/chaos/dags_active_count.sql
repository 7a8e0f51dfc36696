-- How many of the chaos DAGs are active. $1 dag ids (text[])
SELECT count(*)::int AS n FROM dag WHERE dag_id = ANY ($1) AND is_active
