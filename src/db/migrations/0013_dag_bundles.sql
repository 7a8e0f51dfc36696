-- DAG bundles (issue 12, after Airflow 3's DAG bundles and DAG versioning): the source of a
-- DAG file with the local modules it imports, stored content-addressed, so that workers run
-- the exact code a DAG version was parsed from, with no DAG folder of their own. Hosts and
-- regions then need no file synchronisation, and every database backup holds the code.
CREATE TABLE dag_bundle (
  -- sha256 (hex) of the normalized file set: entry path, then each path and content, sorted by path.
  bundle_hash  text PRIMARY KEY,
  -- Path of the DAG file inside the bundle.
  entry        text NOT NULL,
  -- { "<path relative to the bundle root>": "<source>" }
  files        jsonb NOT NULL,
  size_bytes   integer NOT NULL CHECK (size_bytes >= 0),
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- NULL: a version stored before bundles existed (its tasks are imported from the worker's DAG folder).
ALTER TABLE dag_version ADD COLUMN bundle_hash text REFERENCES dag_bundle;
