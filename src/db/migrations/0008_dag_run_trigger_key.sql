-- A manual trigger's client-generated key: the trigger transaction is retried when its
-- COMMIT fails on a lost connection (the outcome is then unknown), and the retry must find
-- the run the first try may have created instead of creating a second one.
-- See docs/decisions/0005-retried-transactions-are-idempotent.md.
ALTER TABLE dag_run ADD COLUMN trigger_key uuid;
CREATE UNIQUE INDEX dag_run_trigger_key ON dag_run (trigger_key) WHERE trigger_key IS NOT NULL;
