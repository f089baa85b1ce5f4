-- User sessions: an application run as a workload with the resources the user asked for, within the user's quota.
CREATE TABLE compute.sessions (
    session_id    uuid PRIMARY KEY,
    user_name     text NOT NULL,
    application   text NOT NULL,
    cpu_cores     integer NOT NULL CHECK (cpu_cores > 0),
    gpu_units     integer NOT NULL CHECK (gpu_units >= 0),
    memory_bytes  bigint NOT NULL CHECK (memory_bytes > 0),
    workload_id   uuid NOT NULL REFERENCES compute.workloads,
    created_at    timestamptz NOT NULL,
    terminated_at timestamptz
);
CREATE INDEX sessions_user_open ON compute.sessions (user_name) WHERE terminated_at IS NULL;

-- Per-user limits over the user's open sessions; a user without a row has the configured default.
CREATE TABLE compute.quotas (
    user_name    text PRIMARY KEY,
    cpu_cores    integer NOT NULL CHECK (cpu_cores >= 0),
    gpu_units    integer NOT NULL CHECK (gpu_units >= 0),
    memory_bytes bigint NOT NULL CHECK (memory_bytes >= 0),
    sessions     integer NOT NULL CHECK (sessions >= 0),
    updated_at   timestamptz NOT NULL
);
