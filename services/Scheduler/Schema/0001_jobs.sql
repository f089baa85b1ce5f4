CREATE TABLE scheduler.jobs (
    job_id       uuid PRIMARY KEY,
    name         text NOT NULL,
    status       text NOT NULL,
    submitted_at timestamptz NOT NULL
);
CREATE INDEX jobs_submitted_at ON scheduler.jobs (submitted_at DESC);
