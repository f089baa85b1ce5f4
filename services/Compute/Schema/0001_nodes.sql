CREATE TABLE compute.nodes (
    node_id           uuid PRIMARY KEY,
    name              text NOT NULL,
    hostname          text NOT NULL,
    addresses         text[] NOT NULL DEFAULT '{}',
    cpu_cores         integer NOT NULL CHECK (cpu_cores > 0),
    memory_bytes      bigint NOT NULL CHECK (memory_bytes > 0),
    gpu_count         integer NOT NULL CHECK (gpu_count >= 0),
    disk_bytes        bigint NOT NULL CHECK (disk_bytes >= 0),
    labels            jsonb NOT NULL DEFAULT '{}',
    agent_version     text NOT NULL,
    registered_at     timestamptz NOT NULL,
    last_heartbeat_at timestamptz NOT NULL,
    CONSTRAINT nodes_name_unique UNIQUE (name)
);
