-- Take the leases of DAG files that nobody holds, whose lease expired, or whose holder is
-- gone (state not running, or its session advisory lock released and its heartbeat stale,
-- outside the grace period after a database disruption). The ON CONFLICT … WHERE re-checks
-- under the row lock, so two processors racing for one file cannot both win. Returns the
-- filelocs taken. A processor an operator fenced takes nothing.
-- $1 holder component id, $2 filelocs wanted (text[]), $3 lease seconds, $4 how many at
-- most, $5 heartbeat age in seconds after which a holder without its lock is gone,
-- $6 grace seconds (dbOutageGraceSec), $7 component lock class (COMPONENT_LOCK_CLASS)
WITH free AS (
  SELECT f.fileloc
  FROM unnest($2::text[]) AS f(fileloc)
  LEFT JOIN dag_file_lease l ON l.fileloc = f.fileloc
  LEFT JOIN component c ON c.id = l.holder_id
  WHERE NOT EXISTS (SELECT 1 FROM component fc WHERE fc.id = $1::uuid AND fc.state = 'fenced')
    AND (l.fileloc IS NULL OR (l.holder_id <> $1::uuid AND (l.expires_at < now() OR c.id IS NULL OR c.state <> 'running'
     OR (keel_component_gone(c.last_heartbeat_at, c.lock_key, $5::float8, $7::int) AND keel_fencing_allowed($6::float8)))))
  ORDER BY f.fileloc
  LIMIT $4
)
INSERT INTO dag_file_lease AS l (fileloc, holder_id, expires_at)
SELECT fileloc, $1::uuid, now() + make_interval(secs => $3::float8) FROM free ORDER BY fileloc
ON CONFLICT (fileloc) DO UPDATE
SET holder_id = EXCLUDED.holder_id, expires_at = EXCLUDED.expires_at, acquired_at = now()
WHERE l.expires_at < now()
   OR NOT EXISTS (SELECT 1 FROM component c WHERE c.id = l.holder_id AND c.state = 'running')
   OR EXISTS (
     SELECT 1 FROM component c
     WHERE c.id = l.holder_id AND keel_component_gone(c.last_heartbeat_at, c.lock_key, $5::float8, $7::int)
       AND keel_fencing_allowed($6::float8))
RETURNING l.fileloc
