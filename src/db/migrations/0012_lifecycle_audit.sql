-- The operator's changes to runs and task instances (clear, mark success / failed,
-- cancel): who, when, what, and from which state, one row per task instance changed plus
-- one per run. Written in the transaction of the change, so it lists exactly what changed.
CREATE TABLE lifecycle_audit (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor         text NOT NULL,
  action        text NOT NULL CHECK (action IN ('clear', 'mark_success', 'mark_failed', 'cancel')),
  dag_id        text NOT NULL,
  dag_run_id    bigint NOT NULL,
  -- NULL: the row is about the run itself.
  task_id       text,
  from_state    text NOT NULL,
  to_state      text NOT NULL,
  try_number    integer,
  attempt_id    uuid,
  details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX lifecycle_audit_run ON lifecycle_audit (dag_run_id, id);
CREATE INDEX lifecycle_audit_at ON lifecycle_audit (at);
