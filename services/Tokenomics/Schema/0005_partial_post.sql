-- TigerBeetle's partial post: a pending transfer may be posted for less than it reserved (a job that ran shorter than
-- its price was reserved for); the rest is released to the debit account. amount is then what moved, reserved what was held.
ALTER TABLE tokenomics.transfers ADD COLUMN reserved bigint CHECK (reserved IS NULL OR reserved >= amount);
