-- The components of the fleet a restored database was copied from that may still act:
-- every one not stopped or fenced already (a restore fences them all). No parameters.
SELECT id::text FROM component WHERE state NOT IN ('stopped', 'fenced') ORDER BY id
