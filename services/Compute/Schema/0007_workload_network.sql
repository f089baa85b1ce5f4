-- What network a workload may use: none (its own empty network namespace, or a VM with no NIC) or host (the node's).
-- Workloads created before this column had the node's network.
ALTER TABLE compute.workloads ADD COLUMN network text NOT NULL DEFAULT 'host' CHECK (network IN ('none', 'host'));
