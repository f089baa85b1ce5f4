-- Per-agent ingest counters ride on the cursor row, updated by the same statement that claims each batch.
ALTER TABLE telemetry.agent_cursors
    ADD COLUMN batches       bigint NOT NULL DEFAULT 0,
    ADD COLUMN samples       bigint NOT NULL DEFAULT 0,
    ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();

-- What agents say about themselves, and the configuration operators give them. The times are null for an agent that
-- never registered itself (a gRPC agent or scrape target that an operator configured).
CREATE TABLE telemetry.agents (
    agent_id      text PRIMARY KEY,
    node          text NOT NULL DEFAULT '',
    hostname      text NOT NULL DEFAULT '',
    provider      text NOT NULL DEFAULT '',
    region        text NOT NULL DEFAULT '',
    version       text NOT NULL DEFAULT '',
    labels        jsonb NOT NULL DEFAULT '{}',
    config        jsonb NOT NULL DEFAULT '{}',
    registered_at timestamptz,
    last_seen_at  timestamptz
);
