-- Workers claim in priority order; this index returns queued rows already in that order,
-- so a claim reads a handful of rows instead of sorting the whole backlog.
DROP INDEX ti_queued;
CREATE INDEX ti_claim ON task_instance (priority_weight DESC, queued_at, id) WHERE state = 'queued';
