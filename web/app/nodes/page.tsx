"use client";

import Link from "next/link";
import { useState } from "react";
import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { ago, bytes } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { useDiscovery, WaitingNodes } from "./Admission";

export type Node = {
  nodeId: string;
  name: string;
  status: string;
  addresses?: string[];
  capacity?: { cpuCores?: number; memoryBytes?: string; gpuCount?: number; diskBytes?: string };
  reserved?: { cpuMillis?: number; memoryBytes?: string };
  schedulable?: boolean;
  cordonReason?: string;
  draining?: boolean;
  admission?: string;
  lastHeartbeatAtMs?: string;
  drivers?: { name: string; available?: boolean; reason?: string }[];
  labels?: Record<string, string>;
};

type HealthReport = { nodes?: { node?: string; nodeId?: string; healthy?: boolean; checks?: { name: string; ok?: boolean; message?: string }[] }[] };

export default function NodesPage() {
  const { api } = usePlatform();
  const role = useTokens()?.user.role;
  const nodes = useResource<{ nodes: Node[] }>("/api/compute/nodes", ["nodes", "workloads"]);
  const [health, setHealth] = useState<HealthReport>();
  const [waiting, discover] = useDiscovery();
  const operator = atLeast(role, "operator");
  return (
    <>
      <h1>Nodes</h1>
      <Failure error={nodes.error} />
      {operator && (
        <div className="row">
          <ActionButton label="Run health checks" run={async () => setHealth(await api.post<HealthReport>("/api/actions/health_check", {}))} />
          <ActionButton label="Discover nodes" run={discover} />
        </div>
      )}
      {waiting && <WaitingNodes nodes={waiting} role={role} onChange={discover} />}
      {health && (
        <section className="panel" aria-label="Health checks">
          <h2>Health checks</h2>
          {(health.nodes ?? []).map((n, i) => (
            <div key={i}>
              <strong>{n.node ?? n.nodeId}</strong>: {n.healthy ? "healthy" : "unhealthy"}{" "}
              <span className="muted">{(n.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`).join("; ")}</span>
            </div>
          ))}
        </section>
      )}
      <div className="table-wrap">
        <table aria-label="Nodes">
          <thead>
            <tr>
              <th>Name</th><th>Status</th><th>CPU</th><th>Memory</th><th>Reserved</th><th>Heartbeat</th><th>Scheduling</th>
              {operator && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(nodes.data?.nodes ?? []).map((n) => (
              <tr key={n.nodeId}>
                <td><Link href={`/nodes/${n.nodeId}`}>{n.name}</Link></td>
                <td className={`status-${n.status}`}>{n.status}</td>
                <td>{n.capacity?.cpuCores ?? 0} cores</td>
                <td>{bytes(n.capacity?.memoryBytes)}</td>
                <td>{((n.reserved?.cpuMillis ?? 0) / 1000).toFixed(1)} cores, {bytes(n.reserved?.memoryBytes)}</td>
                <td>{ago(n.lastHeartbeatAtMs)}</td>
                <td>{n.admission === "pending" ? "waiting for admission" : n.admission === "rejected" ? "rejected" : n.draining ? "draining" : n.schedulable === false ? `cordoned${n.cordonReason ? `: ${n.cordonReason}` : ""}` : "schedulable"}</td>
                {operator && (
                  <td className="row">
                    {n.schedulable === false ? (
                      <ActionButton label={`Uncordon ${n.name}`} run={() => api.post(`/api/compute/nodes/${n.nodeId}/uncordon`, {})} />
                    ) : (
                      <ActionButton label={`Cordon ${n.name}`} run={() => api.post(`/api/compute/nodes/${n.nodeId}/cordon`, { reason: "from the control panel" })} />
                    )}
                    <ActionButton label={`Drain ${n.name}`} confirm={`Move or stop every workload on ${n.name}?`} run={() => api.post(`/api/compute/nodes/${n.nodeId}/drain`, { reason: "from the control panel" })} />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
