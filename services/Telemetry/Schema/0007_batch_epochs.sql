-- Which batches of each agent run (epoch) are committed. Duplicates are recognised per (agent, epoch): a restarted
-- agent draws a new epoch, so a clock that stepped back between two runs cannot make new batches look like replays.
-- The per-agent counters stay on telemetry.agent_cursors. A row whose epoch sent nothing for longer than samples are
-- accepted late is removed: any batch it could still recognise would be refused for its samples' age anyway.
CREATE TABLE telemetry.batch_cursors (
    agent_id      text NOT NULL,
    epoch         bigint NOT NULL,
    last_sequence bigint NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (agent_id, epoch)
);
CREATE INDEX batch_cursors_updated_at ON telemetry.batch_cursors (updated_at);

INSERT INTO telemetry.batch_cursors (agent_id, epoch, last_sequence, updated_at)
SELECT agent_id, 0, last_sequence, updated_at FROM telemetry.agent_cursors;
