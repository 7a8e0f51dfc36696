-- "The primary changed" is recorded once per new primary. INSERT ... WHERE NOT EXISTS let two
-- components that saw the same promotion at the same moment both record it (neither saw the
-- other's uncommitted row); a unique index makes the second insert a no-op instead.

-- Earlier duplicates: keep the first record of each primary.
DELETE FROM ha_event e
WHERE e.kind = 'db_primary_changed'
  AND EXISTS (
    SELECT 1 FROM ha_event f
    WHERE f.kind = 'db_primary_changed' AND f.details->>'primary' = e.details->>'primary'
      AND (f.at, f.id) < (e.at, e.id)
  );

CREATE UNIQUE INDEX ha_event_primary_changed_once ON ha_event ((details->>'primary')) WHERE kind = 'db_primary_changed';
