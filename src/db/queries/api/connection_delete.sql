-- Delete a connection. $1 conn_id
DELETE FROM connection WHERE conn_id = $1 RETURNING conn_id
