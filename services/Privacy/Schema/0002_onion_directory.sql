-- The relay directory: one row per node that has (or had) the relay role; the descriptor columns are what the relay
-- last published, signed. The first version of this table was never written to.
DROP TABLE privacy.relays;

CREATE TABLE privacy.relays (
    node             text PRIMARY KEY,
    node_id          uuid,
    enabled          boolean NOT NULL,
    enabled_at       timestamptz NOT NULL,
    enabled_by       text NOT NULL,
    exit_policy      text[] NOT NULL,
    identity_key     text,
    onion_key        text,
    address          text,
    port             integer CHECK (port BETWEEN 1 AND 65535),
    bandwidth        bigint NOT NULL DEFAULT 0 CHECK (bandwidth >= 0),
    started_at       timestamptz,
    published_at     timestamptz,
    descriptor       text,
    signature        text,
    reachable        boolean NOT NULL DEFAULT false,
    probe_latency_ms double precision,
    flags            text[] NOT NULL DEFAULT '{}'
);

-- Every consensus the authority signed, newest kept for clients; older ones pruned after a day.
CREATE TABLE privacy.consensus (
    valid_after timestamptz PRIMARY KEY,
    fresh_until timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    body        text NOT NULL,
    signature   text NOT NULL
);
