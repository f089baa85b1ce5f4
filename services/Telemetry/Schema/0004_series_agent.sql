-- The agent whose batch created a series, for the seeds' per-agent metric view.
ALTER TABLE telemetry.series ADD COLUMN agent_id text;
CREATE INDEX series_agent ON telemetry.series (agent_id);
