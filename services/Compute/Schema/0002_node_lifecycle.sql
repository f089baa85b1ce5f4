-- What the node monitor last saw (Ready, NotReady, Down) and since when; whether new work may land on the node
-- (cordon, drain); whether an operator admitted it; the drivers its agent really has; where its agent listens.
ALTER TABLE compute.nodes
    ADD COLUMN status            text NOT NULL DEFAULT 'Ready' CHECK (status IN ('Ready', 'NotReady', 'Down')),
    ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN schedulable       boolean NOT NULL DEFAULT true,
    ADD COLUMN cordon_reason     text NOT NULL DEFAULT '',
    ADD COLUMN draining          boolean NOT NULL DEFAULT false,
    ADD COLUMN admission         text NOT NULL DEFAULT 'admitted' CHECK (admission IN ('pending', 'admitted', 'rejected')),
    ADD COLUMN drivers           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN agent_url         text NOT NULL DEFAULT '';
