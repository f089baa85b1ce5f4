-- Series are identified by a hash of their name and sorted label set; samples point at them by id.
CREATE TABLE telemetry.series (
    series_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    labels      jsonb NOT NULL,
    labels_hash bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT series_identity_unique UNIQUE (labels_hash)
);
CREATE INDEX series_name ON telemetry.series (name);

-- Raw samples, one partition per UTC day (created ahead and dropped past retention by SamplePartitions):
-- expiring data is a DROP TABLE, never a DELETE. The btree serves per-series reads; BRIN keeps time scans cheap.
CREATE TABLE telemetry.samples (
    series_id bigint NOT NULL,
    time      timestamptz NOT NULL,
    value     double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX samples_series_time ON telemetry.samples (series_id, time);
CREATE INDEX samples_time_brin ON telemetry.samples USING brin (time);

-- The newest committed batch sequence of each agent: a resent batch at or below it is a duplicate.
CREATE TABLE telemetry.agent_cursors (
    agent_id      text PRIMARY KEY,
    last_sequence bigint NOT NULL,
    updated_at    timestamptz NOT NULL
);
