-- Staking (Cosmos x/staking's share model), rewards (F1, per share) and the parameters governance changes.

-- Tokens being unbonded wait in their own pool, rewards not yet claimed in theirs: each pool's balance is what its
-- records say it owes (checked with the ledger's invariants).
ALTER TABLE tokenomics.accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE tokenomics.accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('user', 'operator', 'treasury', 'staking-pool', 'unbonding-pool', 'rewards-pool', 'escrow', 'issuance'));
INSERT INTO tokenomics.accounts (account_id, kind, owner, created_at) VALUES
    ('unbonding-pool', 'unbonding-pool', 'platform', now()),
    ('rewards-pool', 'rewards-pool', 'platform', now());

ALTER TABLE tokenomics.transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE tokenomics.transfers ADD CONSTRAINT transfers_kind_check
    CHECK (kind IN ('transfer', 'mint', 'burn', 'stake', 'unbond', 'rebond', 'withdraw', 'reward', 'commission', 'claim', 'slash'));

-- A node's operator staked to: tokens bonded to it and the shares they are divided into. A slash lowers tokens and
-- leaves shares, so every delegator loses the same fraction without a row of theirs being touched.
CREATE TABLE tokenomics.validators (
    node             text PRIMARY KEY,
    registered_by    text NOT NULL,
    commission_rate  numeric NOT NULL CHECK (commission_rate >= 0 AND commission_rate <= 1),
    tokens           bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    shares           numeric NOT NULL DEFAULT 0 CHECK (shares >= 0),
    -- F1: the rewards one share has earned since the validator began; a delegation owes shares × (now − its start).
    reward_per_share numeric NOT NULL DEFAULT 0,
    jailed_until     timestamptz,
    slashed          bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL
);

CREATE TABLE tokenomics.delegations (
    delegator        text NOT NULL,
    node             text NOT NULL REFERENCES tokenomics.validators,
    shares           numeric NOT NULL CHECK (shares > 0),
    reward_per_share_start numeric NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (delegator, node)
);
CREATE INDEX delegations_node ON tokenomics.delegations (node);

CREATE TABLE tokenomics.unbondings (
    unbonding_id     uuid PRIMARY KEY,
    delegator        text NOT NULL,
    node             text NOT NULL REFERENCES tokenomics.validators,
    initial_balance  bigint NOT NULL CHECK (initial_balance > 0),
    balance          bigint NOT NULL CHECK (balance >= 0 AND balance <= initial_balance),
    state            text NOT NULL CHECK (state IN ('unbonding', 'completed', 'cancelled')),
    created_at       timestamptz NOT NULL,
    completes_at     timestamptz NOT NULL,
    resolved_at      timestamptz
);
CREATE INDEX unbondings_delegator ON tokenomics.unbondings (delegator, created_at DESC);
CREATE INDEX unbondings_due ON tokenomics.unbondings (completes_at) WHERE state = 'unbonding';
CREATE INDEX unbondings_node ON tokenomics.unbondings (node, created_at) WHERE state = 'unbonding';

-- Tokens moved from one validator to another at once; kept until the unbonding period passes so that a slash for an
-- infraction the source committed before the move still reaches them.
CREATE TABLE tokenomics.redelegations (
    redelegation_id    uuid PRIMARY KEY,
    delegator          text NOT NULL,
    source_node        text NOT NULL REFERENCES tokenomics.validators,
    destination_node   text NOT NULL REFERENCES tokenomics.validators,
    initial_balance    bigint NOT NULL CHECK (initial_balance > 0),
    shares_destination numeric NOT NULL CHECK (shares_destination > 0),
    created_at         timestamptz NOT NULL,
    completes_at       timestamptz NOT NULL,
    requested_by       text NOT NULL,
    idempotency_key    text NOT NULL,
    payload            text NOT NULL,
    UNIQUE (requested_by, idempotency_key)
);
CREATE INDEX redelegations_source ON tokenomics.redelegations (source_node, created_at);
CREATE INDEX redelegations_destination ON tokenomics.redelegations (delegator, destination_node, completes_at);

-- Each slash once per piece of evidence.
CREATE TABLE tokenomics.slashes (
    slash_id      uuid PRIMARY KEY,
    node          text NOT NULL REFERENCES tokenomics.validators,
    reason        text NOT NULL CHECK (reason IN ('downtime', 'sla')),
    evidence      text NOT NULL,
    fraction      numeric NOT NULL CHECK (fraction >= 0 AND fraction <= 1),
    infraction_at timestamptz NOT NULL,
    slashed_at    timestamptz NOT NULL,
    amount        bigint NOT NULL CHECK (amount >= 0),
    jailed_until  timestamptz,
    UNIQUE (node, reason, evidence)
);

-- A node's measured contribution in one reward epoch and what it was paid.
CREATE TABLE tokenomics.reward_epochs (
    epoch_start   timestamptz NOT NULL,
    epoch_end     timestamptz NOT NULL,
    node          text NOT NULL,
    cpu_seconds   double precision NOT NULL,
    memory_gib_hours double precision NOT NULL,
    reward        bigint NOT NULL CHECK (reward >= 0),
    commission    bigint NOT NULL CHECK (commission >= 0),
    delegators_share bigint NOT NULL CHECK (delegators_share >= 0),
    PRIMARY KEY (epoch_start, node)
);
-- Epochs looked at, with or without work in them: none is paid twice, none skipped.
CREATE TABLE tokenomics.epochs_closed (
    epoch_start timestamptz PRIMARY KEY,
    epoch_end   timestamptz NOT NULL,
    closed_at   timestamptz NOT NULL,
    nodes       int NOT NULL,
    minted      bigint NOT NULL
);

-- The platform's parameters that governance changes; their first values come from configuration (the genesis).
CREATE TABLE tokenomics.parameters (
    name       text PRIMARY KEY,
    value      numeric NOT NULL,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL
);
