-- The job queue proper: the skeleton's table held nothing, so it is replaced.
DROP TABLE scheduler.jobs;

CREATE TABLE scheduler.jobs (
    job_id              uuid PRIMARY KEY,
    name                text NOT NULL,
    owner               text NOT NULL,
    sla_tier            text NOT NULL CHECK (sla_tier IN ('gold', 'silver', 'bronze')),
    status              text NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'completed', 'failed', 'cancelled', 'timeout')),
    reason              text NOT NULL,
    cpu_millis          int NOT NULL CHECK (cpu_millis > 0),
    memory_mib          bigint NOT NULL CHECK (memory_mib > 0),
    gpu_count           int NOT NULL CHECK (gpu_count >= 0),
    estimated_runtime_s bigint NOT NULL CHECK (estimated_runtime_s > 0),
    max_runtime_s       bigint NOT NULL CHECK (max_runtime_s >= 0),
    deadline            timestamptz,
    driver              text NOT NULL,
    command             text NOT NULL,
    args                text[] NOT NULL,
    image               text NOT NULL,
    node_selector       jsonb NOT NULL,
    labels              jsonb NOT NULL,
    affinity            jsonb NOT NULL,
    anti_affinity       jsonb NOT NULL,
    depends_on          uuid[] NOT NULL,
    preemptible         boolean NOT NULL,
    attempts            int NOT NULL DEFAULT 0,
    node_id             uuid,
    workload_id         uuid,
    exit_code           int,
    submitted_at        timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL,
    -- A placed job holds its node until it finishes: scheduled and running jobs always name one.
    CHECK (status NOT IN ('scheduled', 'running') OR node_id IS NOT NULL)
);
CREATE INDEX jobs_newest ON scheduler.jobs (submitted_at DESC, job_id DESC);
CREATE INDEX jobs_owner ON scheduler.jobs (owner, submitted_at DESC);
CREATE INDEX jobs_active ON scheduler.jobs (status) WHERE status IN ('pending', 'scheduled', 'running');

-- Every state change of every job, with its reason code: a job's history.
CREATE TABLE scheduler.job_transitions (
    transition_id bigserial PRIMARY KEY,
    job_id        uuid NOT NULL REFERENCES scheduler.jobs ON DELETE CASCADE,
    status        text NOT NULL,
    reason        text NOT NULL,
    message       text NOT NULL,
    node_id       uuid,
    attempt       int NOT NULL,
    at            timestamptz NOT NULL
);
CREATE INDEX job_transitions_job ON scheduler.job_transitions (job_id, transition_id);

-- Fair share: each user's CPU-seconds of finished work, decayed with a half-life up to decayed_at.
CREATE TABLE scheduler.usage (
    owner       text PRIMARY KEY,
    cpu_seconds double precision NOT NULL CHECK (cpu_seconds >= 0),
    decayed_at  timestamptz NOT NULL
);

-- Placement decisions as the API shows them (the Decision message in proto3 JSON); the newest are kept.
CREATE TABLE scheduler.decisions (
    decision_id uuid PRIMARY KEY,
    made_at     timestamptz NOT NULL,
    body        jsonb NOT NULL
);
CREATE INDEX decisions_newest ON scheduler.decisions (made_at DESC);

-- How a solution is chosen from the front; one row, changed by admins or governance.
CREATE TABLE scheduler.objective_weights (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    makespan     double precision NOT NULL CHECK (makespan >= 0),
    cost         double precision NOT NULL CHECK (cost >= 0),
    energy       double precision NOT NULL CHECK (energy >= 0),
    sla_lateness double precision NOT NULL CHECK (sla_lateness >= 0),
    imbalance    double precision NOT NULL CHECK (imbalance >= 0),
    changed_by   text NOT NULL,
    changed_at   timestamptz NOT NULL
);
INSERT INTO scheduler.objective_weights VALUES (true, 0.2, 0.15, 0.1, 0.4, 0.15, 'default', now());
