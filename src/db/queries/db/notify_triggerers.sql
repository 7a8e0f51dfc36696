-- Wake the triggerers: a trigger was deferred on, or an external event was posted.
-- $1 payload: 'deferred' or 'external:<key>'
SELECT pg_notify('keel_triggerer', $1)
