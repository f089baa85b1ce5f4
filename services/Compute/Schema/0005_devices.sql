-- Idle devices (the seeds' device harvesting): phones, laptops and desktops whose owners lend them when idle. The
-- harvest policy decides from each heartbeat whether the device is offered to the Scheduler or suspended.
CREATE TABLE compute.devices (
    device_id         uuid PRIMARY KEY,
    name              text NOT NULL,
    type              text NOT NULL,
    owner             text NOT NULL,
    cpu_cores         integer NOT NULL CHECK (cpu_cores > 0),
    memory_bytes      bigint NOT NULL CHECK (memory_bytes > 0),
    policy            jsonb NOT NULL,
    state             text NOT NULL CHECK (state IN ('offered', 'suspended', 'offline')),
    state_reason      text NOT NULL,
    state_changed_at  timestamptz NOT NULL,
    idle_seconds      bigint NOT NULL DEFAULT 0,
    cpu_load          double precision NOT NULL DEFAULT 0,
    battery_percent   double precision,
    charging          boolean NOT NULL DEFAULT false,
    temperature_c     double precision,
    registered_at     timestamptz NOT NULL,
    last_heartbeat_at timestamptz NOT NULL,
    offered_seconds   double precision NOT NULL DEFAULT 0
);
