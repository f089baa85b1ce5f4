-- Onion relays are paid for the bytes they carry (Privacy's relay_bytes_relayed_total), beside CPU and memory.
ALTER TABLE tokenomics.reward_epochs ADD COLUMN relay_gib double precision NOT NULL DEFAULT 0;
