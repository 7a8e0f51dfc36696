-- Backfills (as Airflow 3's backfill and backfill_dag_run tables): an operator asks for the
-- runs of a DAG's past intervals in a range; the row and its planned logical dates are
-- written in one transaction, and the schedulers create (or clear) the runs progressively,
-- at most max_active_runs of them active at once. A backfill's runs have run_type
-- 'backfill': they do not move the DAG's schedule and are not counted against the DAG's
-- own max_active_runs.
ALTER TABLE dag_run DROP CONSTRAINT dag_run_run_type_check;
ALTER TABLE dag_run ADD CONSTRAINT dag_run_run_type_check CHECK (run_type IN ('scheduled', 'manual', 'backfill'));

CREATE TABLE backfill (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_id           text NOT NULL REFERENCES dag,
  -- Logical dates from_date <= d <= to_date.
  from_date        timestamptz NOT NULL,
  to_date          timestamptz NOT NULL CHECK (to_date >= from_date),
  -- What happens to a logical date that already has a run: none keeps it, failed clears a
  -- failed one, all clears any finished one.
  reprocess        text NOT NULL CHECK (reprocess IN ('none', 'failed', 'all')),
  max_active_runs  integer NOT NULL CHECK (max_active_runs > 0),
  state            text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'cancelled')),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  cancelled_by     text
);
CREATE INDEX backfill_running ON backfill (id) WHERE state = 'running';
CREATE INDEX backfill_dag ON backfill (dag_id, id);

-- One row per planned logical date, in order. action is the plan made at creation; state
-- says what the schedulers did: planned (not yet), started (dag_run_id created or cleared),
-- skipped (reason says why: the run already existed, was in flight, or appeared since).
CREATE TABLE backfill_run (
  backfill_id          bigint NOT NULL REFERENCES backfill ON DELETE CASCADE,
  sort_ordinal         integer NOT NULL,
  logical_date         timestamptz NOT NULL,
  data_interval_start  timestamptz NOT NULL,
  data_interval_end    timestamptz NOT NULL,
  action               text NOT NULL CHECK (action IN ('create', 'clear', 'skip')),
  state                text NOT NULL CHECK (state IN ('planned', 'started', 'skipped')),
  dag_run_id           bigint REFERENCES dag_run ON DELETE SET NULL,
  reason               text,
  PRIMARY KEY (backfill_id, sort_ordinal),
  UNIQUE (backfill_id, logical_date)
);
CREATE INDEX backfill_run_planned ON backfill_run (backfill_id, sort_ordinal) WHERE state = 'planned';
CREATE INDEX backfill_run_dag_run ON backfill_run (dag_run_id) WHERE dag_run_id IS NOT NULL;
