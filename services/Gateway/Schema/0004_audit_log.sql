-- The audit log: append-only and hash-chained. Each row's hash is SHA-256(previous row's hash || the row's canonical
-- form), so a row rewritten or deleted in place breaks the chain from there on; the chain's head is signed at
-- intervals with the issuer's key (audit_heads), so rewriting the whole tail is detected too.
CREATE TABLE identity.audit_log (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    role         text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL,
    status       integer NOT NULL,
    client_ip    text NOT NULL,
    user_agent   text NOT NULL,
    request_id   text NOT NULL,
    hash         bytea NOT NULL
);
CREATE INDEX audit_log_actor ON identity.audit_log (actor, seq);
CREATE INDEX audit_log_at ON identity.audit_log (at);

CREATE TABLE identity.audit_heads (
    seq          bigint PRIMARY KEY,
    hash         bytea NOT NULL,
    signed_at    timestamptz NOT NULL,
    signature    text NOT NULL          -- a JWS (ES256) over {seq, hash, signedAt}, verifiable with the JWKS
);

-- Append-only for everyone but a superuser: no UPDATE or DELETE through ordinary statements.
CREATE FUNCTION identity.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON identity.audit_log
    FOR EACH ROW EXECUTE FUNCTION identity.audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON identity.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION identity.audit_log_is_append_only();
CREATE TRIGGER audit_heads_append_only BEFORE UPDATE OR DELETE ON identity.audit_heads
    FOR EACH ROW EXECUTE FUNCTION identity.audit_log_is_append_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON identity.audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION identity.audit_log_is_append_only();
