-- Callbacks, run timeouts and deadlines (docs/decisions/0008-callbacks-recorded-once.md).
-- A callback to run is a row inserted in the same transaction that records its event (a
-- task's end, a run's end, a missed deadline); the unique key (kind, run, task, seq) makes
-- a second record of one event impossible. Workers claim pending rows like task instances:
-- a new claim_id per claim is the fencing token its end is conditional on.
ALTER TABLE dag_run
  -- Times the run ended (a cleared run may end again): the seq of a run-end callback.
  ADD COLUMN end_count integer NOT NULL DEFAULT 0,
  -- When the run must be finished by (the DAG's deadline); NULL: none.
  ADD COLUMN deadline_at timestamptz,
  -- When a scheduler found the deadline missed (its alert recorded once).
  ADD COLUMN deadline_missed_at timestamptz;

-- Runs whose deadline is still to be judged: unfinished, or finished late and not yet judged.
CREATE INDEX dag_run_deadline_open ON dag_run (deadline_at)
  WHERE deadline_at IS NOT NULL AND deadline_missed_at IS NULL AND (ended_at IS NULL OR ended_at > deadline_at);

CREATE TABLE callback (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('on_success', 'on_failure', 'on_retry', 'on_deadline_missed')),
  dag_run_id        bigint NOT NULL REFERENCES dag_run ON DELETE CASCADE,
  dag_id            text NOT NULL,
  -- '' for a DAG-level callback (a key column, so not NULL).
  task_id           text NOT NULL,
  -- The try number (task), the run's end_count (run end), 0 (deadline).
  seq               integer NOT NULL,
  queue             text NOT NULL,
  -- What the callback function is told: state, error, reason, deadline.
  context           jsonb NOT NULL,
  state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'success', 'failed')),
  claim_id          uuid,
  worker_id         uuid,
  lease_expires_at  timestamptz,
  -- Claims so far: a claim whose worker died is re-run, up to a bound.
  claims            integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  ended_at          timestamptz,
  error             text,
  log               text NOT NULL DEFAULT '',
  UNIQUE (kind, dag_run_id, task_id, seq)
);
CREATE INDEX callback_pending ON callback (queue, id) WHERE state = 'pending';
CREATE INDEX callback_running ON callback (lease_expires_at) WHERE state = 'running';

-- A run failed by its dagRunTimeoutSec is audited like an operator's cancel, by the scheduler.
ALTER TABLE lifecycle_audit DROP CONSTRAINT lifecycle_audit_action_check,
  ADD CONSTRAINT lifecycle_audit_action_check CHECK (action IN ('clear', 'mark_success', 'mark_failed', 'cancel', 'timeout'));
