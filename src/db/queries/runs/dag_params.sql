-- The param specs of a DAG's current version. $1 dag_id
SELECT serialized->'params' AS params FROM dag WHERE dag_id = $1
