-- Tokens for scripts, integrations and outside agents: shown once, stored as SHA-256 only. An agent token acts for
-- one agent id (its subject); an API token for the user who made it, with at most that user's role.
CREATE TABLE identity.api_tokens (
    token_id      uuid PRIMARY KEY,
    token_sha256  bytea NOT NULL UNIQUE,
    display       text NOT NULL,                  -- the prefix and the first characters, to recognise it in a list
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('api', 'agent')),
    subject       text NOT NULL,                  -- the user (api) or the agent id (agent)
    role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin', 'agent')),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_created_by ON identity.api_tokens (created_by);
