-- Each placement lost with its node (reason node-lost) of a job that then missed its deadline: an SLA breach by that
-- node, reported to Tokenomics once (which slashes the node's validator) and recorded here with what came of it.
CREATE TABLE scheduler.sla_breaches (
    job_id      uuid NOT NULL REFERENCES scheduler.jobs ON DELETE CASCADE,
    attempt     int NOT NULL,
    node_name   text NOT NULL,
    lost_at     timestamptz NOT NULL,
    outcome     text NOT NULL,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_transitions_node_lost ON scheduler.job_transitions (job_id, attempt) WHERE reason = 'node-lost';
