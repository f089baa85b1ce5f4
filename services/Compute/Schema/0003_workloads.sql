-- Workloads (the seeds' VMs) in Nova's model: a stable vm_state, the task in progress, the power state the agent
-- last reported. The resources a workload reserves count against its node while it is not deleted.
CREATE TABLE compute.workloads (
    workload_id        uuid PRIMARY KEY,
    name               text NOT NULL,
    owner              text NOT NULL,
    node_id            uuid REFERENCES compute.nodes,
    driver             text NOT NULL,
    image              text NOT NULL DEFAULT '',
    command            text NOT NULL DEFAULT '',
    args               text[] NOT NULL DEFAULT '{}',
    env                jsonb NOT NULL DEFAULT '{}',
    labels             jsonb NOT NULL DEFAULT '{}',
    node_selector      jsonb NOT NULL DEFAULT '{}',
    cpu_millis         integer NOT NULL CHECK (cpu_millis > 0),
    memory_bytes       bigint NOT NULL CHECK (memory_bytes > 0),
    gpu_count          integer NOT NULL DEFAULT 0 CHECK (gpu_count >= 0),
    restart_policy     text NOT NULL CHECK (restart_policy IN ('never', 'on-failure', 'always')),
    vm_state           text NOT NULL CHECK (vm_state IN ('building', 'active', 'stopped', 'paused', 'error', 'lost', 'deleted')),
    task_state         text NOT NULL DEFAULT '',
    power_state        text NOT NULL DEFAULT 'nostate' CHECK (power_state IN ('nostate', 'running', 'paused', 'shutdown', 'crashed')),
    -- What the agent is asked to make true, and a counter that asks it to restart.
    desired_state      text NOT NULL CHECK (desired_state IN ('running', 'stopped', 'paused', 'absent')),
    restart_generation bigint NOT NULL DEFAULT 0,
    restart_hard       boolean NOT NULL DEFAULT false,
    stop_timeout_ms    bigint NOT NULL DEFAULT 10000,
    force_stop         boolean NOT NULL DEFAULT false,
    generation         bigint NOT NULL DEFAULT 1,
    pid                integer,
    exit_code          integer,
    restarts           integer NOT NULL DEFAULT 0,
    message            text NOT NULL DEFAULT '',
    started_at         timestamptz,
    finished_at        timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz,
    idempotency_key    text,
    -- SHA-256 of the create request a key was first used with: the same key with another request is refused.
    idempotency_hash   text,
    CONSTRAINT workloads_idempotency_unique UNIQUE (owner, idempotency_key)
);
CREATE INDEX workloads_node ON compute.workloads (node_id) WHERE vm_state <> 'deleted';

-- Every mutating call is an operation: polled by id, finished when the agent reports the target state (or fails).
CREATE TABLE compute.operations (
    operation_id uuid PRIMARY KEY,
    workload_id  uuid NOT NULL REFERENCES compute.workloads,
    action       text NOT NULL,
    status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error        text NOT NULL DEFAULT '',
    requested_by text NOT NULL,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX operations_workload ON compute.operations (workload_id, created_at);
CREATE UNIQUE INDEX operations_one_running ON compute.operations (workload_id) WHERE status = 'running';
