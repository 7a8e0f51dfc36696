-- Security of users and API tokens (issue 11):
-- - a user can be disabled, and every session of a user ended at once: sessions carry the
--   user's session epoch from their login and count only while it is unchanged (this works
--   for sessions in Redis too, which cannot be listed by user);
-- - an API token has a role no higher than its user's and than the credential that made
--   it, and remembers the token that made it: revoking (deleting) a token revokes every
--   token made with it;
-- - failed logins are counted per username, so that guessing passwords from many
--   addresses backs off too.

ALTER TABLE keel_user
  ADD COLUMN disabled_at timestamptz,
  ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;

ALTER TABLE web_session ADD COLUMN user_epoch integer NOT NULL DEFAULT 0;
CREATE INDEX web_session_user ON web_session (user_id);

-- role NULL (tokens made before this migration): the user's role.
ALTER TABLE api_token
  ADD COLUMN role text CHECK (role IN ('admin', 'op', 'viewer')),
  ADD COLUMN parent_id bigint REFERENCES api_token ON DELETE CASCADE;
CREATE INDEX api_token_parent ON api_token (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX api_token_user ON api_token (user_id);

-- Tokens can no longer be made without an expiry: the ones that were get the default
-- maximum lifetime (apiTokenMaxLifetimeSec, 365 days) from now.
UPDATE api_token SET expires_at = now() + interval '365 days' WHERE expires_at IS NULL;

CREATE TABLE login_attempt (
  username      text PRIMARY KEY,
  -- Logins tried since the last successful one (each counts before its password is checked).
  failures      integer NOT NULL,
  last_at       timestamptz NOT NULL,
  -- No login of this username is tried before then.
  locked_until  timestamptz
);
