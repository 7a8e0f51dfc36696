-- A connection with its encrypted password, for the task that asked for it (the worker decrypts it). $1 conn_id
SELECT conn_id, conn_type, host, port, login, schema, extra, password_encrypted
FROM connection WHERE conn_id = $1
