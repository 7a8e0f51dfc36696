-- What `keel ha fence` would fence (its dry run and its check of the ids given): the
-- components named or on the host, with their state.
-- $1 component ids (uuid[]), $2 hostname (NULL: none)
SELECT id, role, hostname, pid, state FROM component
WHERE id = ANY ($1::uuid[]) OR hostname = $2
ORDER BY hostname, role, id
