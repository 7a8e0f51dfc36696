-- End a session (logout). $1 session id hash
DELETE FROM web_session WHERE id_hash = $1
