-- The API server's state, shared by all its copies: users, API tokens and browser
-- sessions (only hashes of tokens are stored), rate-limit counters, variables and
-- connections (secrets encrypted by the API with AES-256-GCM before they get here).

CREATE TABLE keel_user (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username       text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin', 'op', 'viewer')),
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_token (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES keel_user ON DELETE CASCADE,
  name          text NOT NULL,
  token_hash    text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  expires_at    timestamptz
);

CREATE TABLE web_session (
  id_hash       text PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES keel_user ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX web_session_expiry ON web_session (expires_at);

CREATE TABLE rate_limit (
  key           text PRIMARY KEY,
  window_start  timestamptz NOT NULL,
  hits          integer NOT NULL
);

CREATE TABLE variable (
  key          text PRIMARY KEY,
  value        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connection (
  conn_id             text PRIMARY KEY,
  conn_type           text NOT NULL,
  host                text,
  port                integer CHECK (port BETWEEN 1 AND 65535),
  login               text,
  schema              text,
  extra               jsonb NOT NULL DEFAULT '{}',
  -- iv ‖ auth tag ‖ ciphertext of the password, NULL when none.
  password_encrypted  bytea,
  description         text NOT NULL DEFAULT '',
  updated_at          timestamptz NOT NULL DEFAULT now()
);
