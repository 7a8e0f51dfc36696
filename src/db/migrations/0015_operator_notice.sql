-- Operator notices: maintenance mode (schedulers create and queue nothing; workers finish
-- what they run; the API keeps serving and shows the message) and an announcement banner.
-- One row, set by `keel maintenance` and `keel announce`.
CREATE TABLE operator_notice (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  maintenance boolean NOT NULL DEFAULT false,
  maintenance_message text,
  maintenance_since timestamptz,
  announcement text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO operator_notice DEFAULT VALUES;
