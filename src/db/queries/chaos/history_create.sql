-- The chaos workload's ledger of side effects (`keel chaos` only; not part of Keel's
-- schema). No parameters.
CREATE TABLE IF NOT EXISTS keel_chaos_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_id      text NOT NULL,
  run_id      text NOT NULL,
  task_id     text NOT NULL,
  attempt_id  uuid NOT NULL,
  try_number  integer NOT NULL,
  event       text NOT NULL CHECK (event IN ('start', 'finish', 'defer', 'resume')),
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
)
