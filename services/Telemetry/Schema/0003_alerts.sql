-- A rule's definition is its AlertRule message in proto3 JSON: the API's shape is the stored shape.
CREATE TABLE telemetry.alert_rules (
    rule_id    uuid PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL
);

-- One alert per rule and group of labels; it keeps its id (and history) across firing again.
CREATE TABLE telemetry.alerts (
    alert_id       uuid PRIMARY KEY,
    rule_id        uuid NOT NULL REFERENCES telemetry.alert_rules ON DELETE CASCADE,
    group_key      text NOT NULL,
    labels         jsonb NOT NULL,
    state          text NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'resolved')),
    value          double precision NOT NULL,
    active_since   timestamptz,
    fired_at       timestamptz,
    resolved_at    timestamptz,
    updated_at     timestamptz NOT NULL,
    ack_by         text,
    ack_comment    text,
    ack_at         timestamptz,
    ack_expires_at timestamptz,
    CONSTRAINT alerts_rule_group_unique UNIQUE (rule_id, group_key)
);

CREATE TABLE telemetry.alert_transitions (
    alert_id   uuid NOT NULL REFERENCES telemetry.alerts ON DELETE CASCADE,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    value      double precision NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX alert_transitions_alert ON telemetry.alert_transitions (alert_id, at);

CREATE TABLE telemetry.silences (
    silence_id uuid PRIMARY KEY,
    matchers   jsonb NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    author     text NOT NULL,
    comment    text NOT NULL
);
