-- Expired sessions, swept now and then by any API copy. $1 idle limit in seconds
DELETE FROM web_session WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1::float8)
