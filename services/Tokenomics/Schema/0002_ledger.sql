-- The ledger proper: the skeleton's table held nothing, so it is replaced. TigerBeetle's account model: posted and
-- pending debits and credits; balance = credits posted − debits posted.
DROP TABLE tokenomics.accounts;

CREATE TABLE tokenomics.accounts (
    account_id      text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('user', 'operator', 'treasury', 'staking-pool', 'escrow', 'issuance')),
    owner           text NOT NULL,
    debits_posted   bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted  bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending  bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at      timestamptz NOT NULL,
    -- No account but issuance (whose debits are the tokens minted) is ever overdrawn, counting what it has reserved:
    -- the database itself refuses it, whatever the code above it does.
    CONSTRAINT no_overdraft CHECK (kind = 'issuance' OR debits_posted + debits_pending <= credits_posted)
);

INSERT INTO tokenomics.accounts (account_id, kind, owner, created_at) VALUES
    ('issuance', 'issuance', 'platform', now()),
    ('treasury', 'treasury', 'platform', now()),
    ('staking-pool', 'staking-pool', 'platform', now()),
    ('escrow', 'escrow', 'platform', now());

CREATE TABLE tokenomics.transfers (
    transfer_id       uuid PRIMARY KEY,
    requested_by      text NOT NULL,
    idempotency_key   text NOT NULL,
    -- The request in a canonical form: the same key with another payload is a conflict, with the same a replay.
    payload           text NOT NULL,
    debit_account_id  text NOT NULL REFERENCES tokenomics.accounts,
    credit_account_id text NOT NULL REFERENCES tokenomics.accounts,
    amount            bigint NOT NULL CHECK (amount > 0),
    kind              text NOT NULL CHECK (kind IN ('transfer', 'mint', 'burn')),
    state             text NOT NULL CHECK (state IN ('posted', 'pending', 'voided')),
    memo              text NOT NULL,
    created_at        timestamptz NOT NULL,
    timeout_at        timestamptz,
    resolved_at       timestamptz,
    CHECK (debit_account_id <> credit_account_id),
    UNIQUE (requested_by, idempotency_key)
);
CREATE INDEX transfers_debit ON tokenomics.transfers (debit_account_id, created_at DESC, transfer_id DESC);
CREATE INDEX transfers_credit ON tokenomics.transfers (credit_account_id, created_at DESC, transfer_id DESC);
CREATE INDEX transfers_pending_timeout ON tokenomics.transfers (timeout_at) WHERE state = 'pending';
