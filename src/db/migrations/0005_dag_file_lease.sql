-- DAG processors in HA: each DAG file is parsed by the one processor that holds its lease.
-- The expiry is computed with the database clock; a holder renews while it holds the file
-- and deletes the row when it stops. A holder whose session advisory lock is gone (its
-- process died) loses its files at once; a frozen one loses them when they expire.

CREATE TABLE dag_file_lease (
  fileloc      text PRIMARY KEY,
  holder_id    uuid NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX dag_file_lease_holder ON dag_file_lease (holder_id);
