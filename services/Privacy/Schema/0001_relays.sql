CREATE TABLE privacy.relays (
    relay_id      uuid PRIMARY KEY,
    node_id       uuid NOT NULL,
    address       text NOT NULL,
    status        text NOT NULL,
    registered_at timestamptz NOT NULL
);
