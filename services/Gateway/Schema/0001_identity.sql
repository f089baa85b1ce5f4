-- Users of the platform, their refresh-token families, and nothing else: API tokens and the audit log come later.
CREATE TABLE identity.users (
    username        text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    password_hash   text NOT NULL,                 -- PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    role            text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A refresh token is stored as its SHA-256 only. Every refresh rotates it: the old row is marked rotated and a new one
-- joins the same family; presenting a rotated token again revokes the whole family (RFC 9700 §4.14).
CREATE TABLE identity.refresh_tokens (
    token_sha256    bytea PRIMARY KEY,
    family_id       uuid NOT NULL,
    username        text NOT NULL REFERENCES identity.users (username) ON DELETE CASCADE,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON identity.refresh_tokens (username) WHERE revoked_at IS NULL;
