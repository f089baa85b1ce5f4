-- What each placement of a job reserved from its owner for the node's operator, and how it was settled.
CREATE TABLE scheduler.job_payments (
    job_id      uuid NOT NULL REFERENCES scheduler.jobs,
    attempt     int NOT NULL,
    node_name   text NOT NULL,
    transfer_id uuid NOT NULL,
    reserved    bigint NOT NULL CHECK (reserved > 0),
    -- The run time the reservation pays for: a shorter run posts its share of it.
    reserved_seconds bigint NOT NULL CHECK (reserved_seconds > 0),
    state       text NOT NULL CHECK (state IN ('reserved', 'posted', 'voided')),
    posted      bigint NOT NULL DEFAULT 0,
    reserved_at timestamptz NOT NULL,
    settled_at  timestamptz,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_payments_open ON scheduler.job_payments (job_id) WHERE state = 'reserved';
