-- Since when the authority has seen the relay answer its probes without a miss: uptime for the Stable flag is counted
-- from here or from the relay's own start, whichever is later, so a relay cannot claim a longer run than was seen.
ALTER TABLE privacy.relays ADD COLUMN observed_since timestamptz;
