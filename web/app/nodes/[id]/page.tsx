"use client";

import { use } from "react";
import type { Node } from "../page";
import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { bytes, number, time } from "@/lib/format";
import { atLeast } from "@/lib/session";

type Stats = Record<string, unknown>;
type Processes = { processes?: { pid: number; name?: string; command?: string; cpuPercent?: number; memoryRssBytes?: string; workloadId?: string }[] };
type Ports = { ports?: { protocol?: string; address?: string; port?: number; pid?: number; process?: string; workloadId?: string }[] };
type Benchmarks = { results?: { benchmark?: string; metric?: string; value?: number; unit?: string; measuredAtMs?: string; nodeId?: string }[] };

export default function NodePage({ params }: { params: Promise<{ id: string }> }) {
  const id = encodeURIComponent(decodeURIComponent(use(params).id));
  const { api } = usePlatform();
  const role = useTokens()?.user.role;
  const node = useResource<Node>(`/api/compute/nodes/${id}`, ["nodes"]);
  const stats = useResource<Stats>(`/api/compute/nodes/${id}/stats`);
  const processes = useResource<Processes>(`/api/compute/nodes/${id}/processes?sortBy=cpu&limit=15`);
  const ports = useResource<Ports>(`/api/compute/nodes/${id}/ports`);
  const benchmarks = useResource<Benchmarks>(`/api/benchmarks/data?nodeId=${id}&limit=20`, ["workloads"]);
  const n = node.data;
  return (
    <>
      <h1>Node {n?.name ?? id}</h1>
      <Failure error={node.error} />
      {n && (
        <section className="panel" aria-label="Capacity">
          <p>
            <span className={`status-${n.status}`}>{n.status}</span> · {n.capacity?.cpuCores} cores · {bytes(n.capacity?.memoryBytes)} memory ·{" "}
            {bytes(n.capacity?.diskBytes)} disk · addresses {(n.addresses ?? []).join(", ")}
          </p>
          <p>Reserved by workloads: {((n.reserved?.cpuMillis ?? 0) / 1000).toFixed(2)} cores, {bytes(n.reserved?.memoryBytes)}</p>
          <p>Drivers: {(n.drivers ?? []).map((d) => `${d.name}${d.available === false ? ` (unavailable: ${d.reason})` : ""}`).join(", ")}</p>
          {atLeast(role, "operator") && (
            <ActionButton label="Run benchmarks on this node" run={() => api.post("/api/benchmarks/start", { nodeIds: [id] })} />
          )}
        </section>
      )}
      <h2>Measured now</h2>
      <Failure error={stats.error} />
      {stats.data && <pre className="logs">{JSON.stringify(stats.data, null, 2)}</pre>}
      <h2>Top processes</h2>
      <Failure error={processes.error} />
      <div className="table-wrap">
        <table aria-label="Processes">
          <thead><tr><th>PID</th><th>Name</th><th>CPU %</th><th>Memory</th><th>Workload</th></tr></thead>
          <tbody>
            {(processes.data?.processes ?? []).map((p) => (
              <tr key={p.pid}><td>{p.pid}</td><td>{p.name ?? p.command}</td><td>{number(p.cpuPercent, 1)}</td><td>{bytes(p.memoryRssBytes)}</td><td>{p.workloadId ?? ""}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Listening ports</h2>
      <Failure error={ports.error} />
      <div className="table-wrap">
        <table aria-label="Ports">
          <thead><tr><th>Protocol</th><th>Address</th><th>Port</th><th>Process</th><th>Workload</th></tr></thead>
          <tbody>
            {(ports.data?.ports ?? []).map((p, i) => (
              <tr key={i}><td>{p.protocol}</td><td>{p.address}</td><td>{p.port}</td><td>{p.process} {p.pid ? `(${p.pid})` : ""}</td><td>{p.workloadId ?? ""}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Benchmarks</h2>
      <Failure error={benchmarks.error} />
      <div className="table-wrap">
        <table aria-label="Benchmarks">
          <thead><tr><th>Benchmark</th><th>Result</th><th>Measured</th></tr></thead>
          <tbody>
            {(benchmarks.data?.results ?? []).map((b, i) => (
              <tr key={i}><td>{b.benchmark} {b.metric}</td><td>{number(b.value, 2)} {b.unit}</td><td>{time(b.measuredAtMs)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
