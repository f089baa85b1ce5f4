-- Governance: proposals with their snapshot of voting power, votes, and who votes with whose stake.

CREATE TABLE tokenomics.vote_delegations (
    delegator  text PRIMARY KEY,
    delegatee  text NOT NULL CHECK (delegatee <> delegator),
    updated_at timestamptz NOT NULL
);

CREATE TABLE tokenomics.proposals (
    proposal_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proposer        text NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    actions         jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    vote_start      timestamptz NOT NULL,
    vote_end        timestamptz NOT NULL,
    -- The schedule and the bar are fixed when it is made: a later change of the parameters does not move them.
    timelock_seconds numeric NOT NULL,
    grace_seconds   numeric NOT NULL,
    total_power     bigint NOT NULL,
    quorum          bigint NOT NULL,
    for_votes       bigint NOT NULL DEFAULT 0,
    against_votes   bigint NOT NULL DEFAULT 0,
    abstain_votes   bigint NOT NULL DEFAULT 0,
    canceled_at     timestamptz,
    queued_at       timestamptz,
    eta             timestamptz,
    executed_at     timestamptz,
    execution_error text NOT NULL DEFAULT ''
);

-- Each voter's power at the proposal's snapshot.
CREATE TABLE tokenomics.proposal_power (
    proposal_id bigint NOT NULL REFERENCES tokenomics.proposals,
    voter       text NOT NULL,
    power       bigint NOT NULL CHECK (power > 0),
    PRIMARY KEY (proposal_id, voter)
);

CREATE TABLE tokenomics.votes (
    proposal_id bigint NOT NULL REFERENCES tokenomics.proposals,
    voter       text NOT NULL,
    support     text NOT NULL CHECK (support IN ('for', 'against', 'abstain')),
    weight      bigint NOT NULL,
    reason      text NOT NULL,
    cast_at     timestamptz NOT NULL,
    PRIMARY KEY (proposal_id, voter)
);
