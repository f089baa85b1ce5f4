-- The VPN coordinator: peers, their key generations (each with its own address, so AllowedIPs never maps one prefix
-- to two keys), and pairwise preshared keys. Private and preshared keys are stored sealed (AES-256-GCM under a key
-- kept in a file only this service reads), never in clear; a private key is wiped once shown to its owner.
CREATE TABLE privacy.vpn_peers (
    peer_id        uuid PRIMARY KEY,
    name           text NOT NULL,
    owner          text NOT NULL,
    endpoint       text,
    allowed_ips    cidr[] NOT NULL DEFAULT '{}',
    preshared_key  boolean NOT NULL,
    rotation_hours integer NOT NULL CHECK (rotation_hours >= 0),
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE UNIQUE INDEX vpn_peers_active_name ON privacy.vpn_peers (name) WHERE revoked_at IS NULL;

CREATE TABLE privacy.vpn_keys (
    peer_id            uuid NOT NULL REFERENCES privacy.vpn_peers,
    generation         integer NOT NULL,
    public_key         text NOT NULL UNIQUE,
    address            inet NOT NULL UNIQUE,
    sealed_private_key bytea,
    created_at         timestamptz NOT NULL,
    retires_at         timestamptz,
    PRIMARY KEY (peer_id, generation)
);

CREATE TABLE privacy.vpn_preshared_keys (
    peer_low  uuid NOT NULL REFERENCES privacy.vpn_peers,
    peer_high uuid NOT NULL REFERENCES privacy.vpn_peers,
    sealed    bytea NOT NULL,
    PRIMARY KEY (peer_low, peer_high),
    CHECK (peer_low < peer_high)
);
