-- Workload migrations between nodes. While one is under way (finished_at IS NULL) it holds the workload's resources
-- on its target until the handover, and on its source after it, until the target reports the workload running.
CREATE TABLE compute.migrations (
    migration_id      uuid PRIMARY KEY,
    workload_id       uuid NOT NULL REFERENCES compute.workloads,
    operation_id      uuid NOT NULL REFERENCES compute.operations,
    source_node_id    uuid NOT NULL REFERENCES compute.nodes,
    target_node_id    uuid NOT NULL REFERENCES compute.nodes,
    type              text NOT NULL CHECK (type IN ('cold', 'warm', 'live')),
    compression_level integer NOT NULL CHECK (compression_level BETWEEN 1 AND 19),
    bandwidth_limit   bigint NOT NULL CHECK (bandwidth_limit >= 0),
    phase             text NOT NULL CHECK (phase IN ('pending', 'precopy', 'final-copy', 'starting', 'completed', 'failed', 'aborted')),
    bytes_total       bigint NOT NULL DEFAULT 0,
    bytes_sent        bigint NOT NULL DEFAULT 0,
    bytes_saved       bigint NOT NULL DEFAULT 0,
    rounds            integer NOT NULL DEFAULT 0,
    stopped_at        timestamptz,
    downtime_ms       bigint,
    error             text NOT NULL DEFAULT '',
    requested_by      text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    CHECK (source_node_id <> target_node_id),
    CHECK ((finished_at IS NULL) = (phase IN ('pending', 'precopy', 'final-copy', 'starting')))
);
-- One migration at a time per workload.
CREATE UNIQUE INDEX migrations_one_active ON compute.migrations (workload_id) WHERE finished_at IS NULL;
CREATE INDEX migrations_active_target ON compute.migrations (target_node_id) WHERE finished_at IS NULL;
CREATE INDEX migrations_active_source ON compute.migrations (source_node_id) WHERE finished_at IS NULL;
CREATE INDEX migrations_workload ON compute.migrations (workload_id, created_at);
