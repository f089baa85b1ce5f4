-- Benchmark runs: each a sequence of tasks (one benchmark workload on one node, run one at a time so no two disturb
-- each other's figures), and every figure they measured, kept with its history.
CREATE TABLE compute.benchmark_runs (
    run_id      uuid PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'stopped')),
    kinds       text[] NOT NULL,
    started_by  text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX benchmark_runs_started ON compute.benchmark_runs (started_at DESC);
CREATE UNIQUE INDEX benchmark_runs_one_active ON compute.benchmark_runs ((true)) WHERE state = 'running';

CREATE TABLE compute.benchmark_tasks (
    run_id       uuid NOT NULL REFERENCES compute.benchmark_runs ON DELETE CASCADE,
    position     integer NOT NULL,
    node_id      uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('cpu', 'memory', 'disk', 'network')),
    peer_node_id uuid,                   -- network: the node running the server
    server_workload_id uuid,             -- network: the server's workload
    secret       text,                   -- network: what the client proves to the server (both workloads get it as BENCH_TOKEN)
    workload_id  uuid,
    state        text NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'stopped')),
    error        text NOT NULL DEFAULT '',
    started_at   timestamptz,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE compute.benchmark_results (
    result_id    bigserial PRIMARY KEY,
    run_id       uuid NOT NULL,
    node_id      uuid NOT NULL,
    node_name    text NOT NULL,
    benchmark    text NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    method       text NOT NULL,
    peer_node_id uuid,
    measured_at  timestamptz NOT NULL
);
CREATE INDEX benchmark_results_by_node ON compute.benchmark_results (node_id, benchmark, measured_at DESC);
CREATE INDEX benchmark_results_by_run ON compute.benchmark_results (run_id);
