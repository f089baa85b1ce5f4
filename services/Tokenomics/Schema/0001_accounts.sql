-- Amounts are in the token's smallest unit.
CREATE TABLE tokenomics.accounts (
    account_id text PRIMARY KEY,
    balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    staked     bigint NOT NULL DEFAULT 0 CHECK (staked >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
