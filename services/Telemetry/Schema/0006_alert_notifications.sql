-- When a firing alert was last notified, and how often in this firing episode: a firing alert nobody acknowledged is
-- notified again once its rule's repeat interval has passed. Both reset when the alert resolves.
ALTER TABLE telemetry.alerts ADD COLUMN last_notified_at timestamptz;
ALTER TABLE telemetry.alerts ADD COLUMN notifications integer NOT NULL DEFAULT 0;
