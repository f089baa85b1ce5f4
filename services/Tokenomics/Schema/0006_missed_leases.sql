-- Leases a node let lapse (Compute's node.not_ready events), counted in a sliding window to prove downtime.
CREATE TABLE tokenomics.missed_leases (
    event_id  text PRIMARY KEY,
    node      text NOT NULL,
    missed_at timestamptz NOT NULL
);
CREATE INDEX missed_leases_node ON tokenomics.missed_leases (node, missed_at);
