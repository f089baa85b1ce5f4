-- Every bonding into a validator (stake, a cancelled unbonding, a redelegation in), so a slash knows what was at
-- stake when the infraction happened: tokens now less what arrived since.
CREATE TABLE tokenomics.bonds (
    node      text NOT NULL REFERENCES tokenomics.validators,
    amount    bigint NOT NULL CHECK (amount > 0),
    bonded_at timestamptz NOT NULL
);
CREATE INDEX bonds_node ON tokenomics.bonds (node, bonded_at);
