-- A component joins: its row, running from now on.
-- $1 component id, $2 role, $3 hostname, $4 pid, $5 Keel version, $6 its session's advisory lock key
INSERT INTO component (id, role, hostname, pid, version, state, lock_key)
VALUES ($1, $2, $3, $4, $5, 'running', $6)
