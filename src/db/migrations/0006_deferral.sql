-- Deferrable tasks. A running attempt may hand its worker slot back and wait on a trigger
-- (state 'deferred'); a triggerer holds the trigger by a lease and, when it fires, moves
-- the task instance back to 'scheduled' with the trigger's outcome in next_event, in one
-- transaction that is conditional on the trigger still waiting: an event resumes its task
-- once, even if two triggerers briefly ran the same trigger.

ALTER TABLE task_instance DROP CONSTRAINT task_instance_state_check;
ALTER TABLE task_instance ADD CONSTRAINT task_instance_state_check
  CHECK (state IN ('pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry',
                   'success', 'failed', 'skipped', 'upstream_failed', 'removed'));
-- A deferred task instance keeps the deferring attempt's id, which its trigger row names:
-- the trigger may resume it only while both still match.
ALTER TABLE task_instance
  -- What the next attempt resumes with: {"event": …}, {"timeout": "…"} or {"error": "…"}.
  -- Set when a trigger fires, cleared when that attempt ends.
  ADD COLUMN next_event jsonb;

ALTER TABLE task_attempt DROP CONSTRAINT task_attempt_state_check;
ALTER TABLE task_attempt ADD CONSTRAINT task_attempt_state_check
  CHECK (state IN ('running', 'success', 'failed', 'fenced', 'handed_back', 'deferred'));

CREATE TABLE trigger (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_instance_id  bigint NOT NULL REFERENCES task_instance ON DELETE CASCADE,
  -- The attempt that deferred (its fencing token); the resumed attempt gets a new one.
  attempt_id        uuid NOT NULL,
  dag_id            text NOT NULL,
  -- DAG file of the deferring task, relative to the DAGs folder (custom triggers live there).
  fileloc           text NOT NULL,
  -- What to wait for: {"kind": "time" | "file" | "http" | "external" | "dag-state" | "custom", …}.
  spec              jsonb NOT NULL,
  state             text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'fired', 'timed_out', 'failed', 'cancelled')),
  timeout_at        timestamptz,
  -- The triggerer running it and until when that holder's claim is valid.
  holder_id         uuid,
  lease_expires_at  timestamptz,
  -- Holders so far (1 = never taken over).
  holder_count      integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  fired_at          timestamptz,
  fired_by          uuid,
  event             jsonb
);
CREATE INDEX trigger_waiting ON trigger (id) WHERE state = 'waiting';
CREATE INDEX trigger_holder ON trigger (holder_id) WHERE state = 'waiting';
CREATE INDEX trigger_task_instance ON trigger (task_instance_id);

-- Events posted from outside (CLI, API) for external triggers. event_id makes a post
-- idempotent: a client that retries after losing the answer posts the same id again.
CREATE TABLE external_event (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key        text NOT NULL,
  event_id   text NOT NULL UNIQUE,
  payload    jsonb NOT NULL DEFAULT 'null',
  posted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX external_event_key ON external_event (key, posted_at);
