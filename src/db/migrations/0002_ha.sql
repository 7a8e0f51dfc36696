-- HA bookkeeping: a session advisory lock per component (released by PostgreSQL the
-- moment the process's connection closes), and the cluster's last disruption (a
-- database restart or failover), during whose aftermath nothing is fenced.

ALTER TABLE component
  ADD COLUMN lock_key integer,
  ADD COLUMN dead_at timestamptz,
  ADD COLUMN loop_at timestamptz,
  ADD COLUMN details jsonb NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX component_lock_key ON component (lock_key) WHERE state IN ('running', 'stopping');
CREATE INDEX component_live ON component (role, last_heartbeat_at) WHERE state = 'running';

CREATE TABLE keel_cluster (
  id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_disruption_at  timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO keel_cluster DEFAULT VALUES;

CREATE INDEX ha_event_kind ON ha_event (kind, at);
CREATE INDEX ti_running_worker ON task_instance (worker_id) WHERE state = 'running';
