-- Rollup tiers: per series and bucket, the count, sum, min and max of its raw samples (avg = sum / count).
-- 1-minute buckets in 7-day partitions, 1-hour buckets (built from the minutes) in 28-day partitions; each tier has its
-- own retention and expires by dropping partitions (TablePartitions), like the raw samples.
CREATE TABLE telemetry.rollup_1m (
    series_id bigint NOT NULL,
    bucket    timestamptz NOT NULL,
    count     bigint NOT NULL,
    sum       double precision NOT NULL,
    min       double precision NOT NULL,
    max       double precision NOT NULL,
    PRIMARY KEY (series_id, bucket)
) PARTITION BY RANGE (bucket);

CREATE TABLE telemetry.rollup_1h (LIKE telemetry.rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);

-- How far each tier is complete: every bucket that starts before rolled_until is rolled up.
CREATE TABLE telemetry.rollup_progress (
    tier          text PRIMARY KEY,
    rolled_until  timestamptz NOT NULL
);

-- Samples that arrived late (older than the lateness bound at write time) for series whose buckets may already be
-- rolled up: written in the same transaction as the samples, re-rolled and deleted by the rollup job.
CREATE TABLE telemetry.rollup_dirty (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_ids bigint[] NOT NULL,
    from_time  timestamptz NOT NULL,
    to_time    timestamptz NOT NULL
);
