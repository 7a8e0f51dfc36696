-- Keel's base schema. Coordination happens only through these rows: unique constraints
-- (one run per dag and logical date, one task instance per run and task), conditional
-- updates on attempt_id (the fencing token), and leases computed with the server's now().

CREATE TABLE dag (
  dag_id          text PRIMARY KEY,
  fileloc         text NOT NULL,
  is_active       boolean NOT NULL DEFAULT true,
  is_paused       boolean NOT NULL DEFAULT false,
  version_hash    text NOT NULL,
  serialized      jsonb NOT NULL,
  -- When the next scheduled run becomes due (end of its data interval); NULL: never.
  next_dagrun_at  timestamptz,
  last_parsed_at  timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dag_due ON dag (next_dagrun_at) WHERE is_active AND NOT is_paused;

-- Every version a run was created from stays readable, so a running DAG run keeps its
-- shape when its file changes.
CREATE TABLE dag_version (
  dag_id        text NOT NULL REFERENCES dag ON DELETE CASCADE,
  version_hash  text NOT NULL,
  serialized    jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dag_id, version_hash)
);

CREATE TABLE dag_file (
  fileloc          text PRIMARY KEY,
  content_hash     text,
  dag_ids          text[] NOT NULL DEFAULT '{}',
  last_parsed_at   timestamptz,
  import_error     text,
  import_error_at  timestamptz
);

CREATE TABLE dag_run (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_id               text NOT NULL REFERENCES dag,
  run_id               text NOT NULL,
  run_type             text NOT NULL CHECK (run_type IN ('scheduled', 'manual')),
  logical_date         timestamptz NOT NULL,
  data_interval_start  timestamptz NOT NULL,
  data_interval_end    timestamptz NOT NULL,
  state                text NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
  params               jsonb NOT NULL DEFAULT '{}',
  version_hash         text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  started_at           timestamptz,
  ended_at             timestamptz,
  last_scheduling_decision timestamptz,
  UNIQUE (dag_id, logical_date),
  UNIQUE (dag_id, run_id),
  FOREIGN KEY (dag_id, version_hash) REFERENCES dag_version (dag_id, version_hash)
);
CREATE INDEX dag_run_active ON dag_run (last_scheduling_decision NULLS FIRST) WHERE state = 'running';
CREATE INDEX dag_run_queued ON dag_run (dag_id, logical_date) WHERE state = 'queued';

CREATE TABLE pool (
  name         text PRIMARY KEY,
  slots        integer NOT NULL CHECK (slots >= 0),
  description  text NOT NULL DEFAULT ''
);
INSERT INTO pool (name, slots, description) VALUES ('default_pool', 128, 'Pool of every task that names none');

CREATE TABLE task_instance (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_run_id       bigint NOT NULL REFERENCES dag_run ON DELETE CASCADE,
  dag_id           text NOT NULL,
  task_id          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'scheduled', 'queued', 'running', 'up_for_retry',
                                                  'success', 'failed', 'skipped', 'upstream_failed', 'removed')),
  -- Tries started so far; the running try's number while running.
  try_number       integer NOT NULL DEFAULT 0,
  max_tries        integer NOT NULL,
  -- Fencing token of the current (or last) attempt: every write of an attempt is
  -- conditional on it.
  attempt_id       uuid,
  worker_id        uuid,
  lease_expires_at timestamptz,
  pool             text NOT NULL,
  pool_slots       integer NOT NULL,
  priority_weight  integer NOT NULL,
  queue            text NOT NULL,
  scheduled_at     timestamptz,
  queued_at        timestamptz,
  started_at       timestamptz,
  ended_at         timestamptz,
  next_retry_at    timestamptz,
  result           jsonb,
  error            text,
  UNIQUE (dag_run_id, task_id)
);
CREATE INDEX ti_queued ON task_instance (queue, priority_weight DESC, queued_at) WHERE state = 'queued';
CREATE INDEX ti_scheduled ON task_instance (priority_weight DESC, scheduled_at) WHERE state = 'scheduled';
CREATE INDEX ti_running_lease ON task_instance (lease_expires_at) WHERE state = 'running';
CREATE INDEX ti_active_pool ON task_instance (pool) WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX ti_attempt ON task_instance (attempt_id) WHERE attempt_id IS NOT NULL;

-- One row per attempt, kept after it ends: who ran it, how it ended, its log.
CREATE TABLE task_attempt (
  attempt_id        uuid PRIMARY KEY,
  task_instance_id  bigint NOT NULL REFERENCES task_instance ON DELETE CASCADE,
  try_number        integer NOT NULL,
  worker_id         uuid,
  hostname          text,
  state             text NOT NULL CHECK (state IN ('running', 'success', 'failed', 'fenced', 'handed_back')),
  started_at        timestamptz NOT NULL DEFAULT now(),
  ended_at          timestamptz,
  error             text,
  log               text NOT NULL DEFAULT ''
);
CREATE INDEX task_attempt_ti ON task_attempt (task_instance_id);

-- Every Keel process registers here and heartbeats with the server clock.
CREATE TABLE component (
  id                 uuid PRIMARY KEY,
  role               text NOT NULL,
  hostname           text NOT NULL,
  pid                integer NOT NULL,
  version            text NOT NULL,
  state              text NOT NULL CHECK (state IN ('running', 'stopping', 'stopped', 'dead')),
  started_at         timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- What the HA machinery did and why: fencing, late writes rejected, adoption, joins.
CREATE TABLE ha_event (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  kind          text NOT NULL,
  component_id  uuid,
  details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ha_event_at ON ha_event (at);
