"use client";

import { useState } from "react";
import { usePlatform, useResource, useTokens, useTopics } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { bytes, time } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { CreateWorkload } from "./CreateWorkload";

export type Workload = {
  workloadId: string;
  name: string;
  owner?: string;
  nodeId?: string;
  driver?: string;
  command?: string;
  cpuMillis?: number;
  memoryBytes?: string;
  vmState?: string;
  taskState?: string;
  powerState?: string;
  allowedActions?: string[];
  exitCode?: number;
  restarts?: number;
  message?: string;
  createdAtMs?: string;
};

/** Each action the API offers, with its path and body; a workload shows only those its state allows. */
const actions: Record<string, { label: string; path: string; body?: unknown; confirm?: boolean }> = {
  start: { label: "Start", path: "start" },
  stop: { label: "Stop", path: "stop", body: { timeoutMs: 10000 } },
  restart: { label: "Restart", path: "restart" },
  pause: { label: "Pause", path: "pause" },
  resume: { label: "Resume", path: "resume" },
  force_stop: { label: "Force stop", path: "force_stop" },
  delete: { label: "Delete", path: "", confirm: true },
};

type Migration = { phase?: string; bytesSent?: string; bytesTotal?: string; targetNodeId?: string };

export default function WorkloadsPage() {
  const { api } = usePlatform();
  const role = useTokens()?.user.role;
  const workloads = useResource<{ workloads: Workload[] }>("/api/compute/workloads", ["workloads"]);
  const nodes = useResource<{ nodes: { nodeId: string; name: string }[] }>("/api/compute/nodes", ["nodes"]);
  const [logs, setLogs] = useState<{ name: string; text: string }>();
  const [migrations, setMigrations] = useState<Record<string, Migration>>({});
  useTopics(["workloads"], (m) => {
    if (m.kind !== "event" || !m.event.type.startsWith("migration.")) return;
    const data = m.event.data as { migration?: Migration & { workloadId?: string } };
    if (data.migration?.workloadId) setMigrations((all) => ({ ...all, [data.migration!.workloadId!]: { ...data.migration, phase: data.migration!.phase ?? m.event.type } }));
  });
  const operator = atLeast(role, "operator");
  const nodeName = (id?: string) => nodes.data?.nodes.find((n) => n.nodeId === id)?.name ?? id ?? "";
  const act = (w: Workload, action: string) => {
    const a = actions[action]!;
    return a.path === "" ? api.delete(`/api/compute/workloads/${w.workloadId}`) : api.post(`/api/compute/workloads/${w.workloadId}/${a.path}`, a.body ?? {});
  };
  return (
    <>
      <h1>Workloads</h1>
      {operator && <CreateWorkload nodes={nodes.data?.nodes ?? []} onCreated={workloads.reload} />}
      <Failure error={workloads.error} />
      <div className="table-wrap">
        <table aria-label="Workloads">
          <thead>
            <tr><th>Name</th><th>State</th><th>Node</th><th>Driver</th><th>Resources</th><th>Created</th><th>Actions</th></tr>
          </thead>
          <tbody>
            {(workloads.data?.workloads ?? []).map((w) => (
              <tr key={w.workloadId} aria-label={`workload ${w.name}`}>
                <td>{w.name}<div className="muted">{w.message}</div></td>
                <td>
                  <span className={`state-${w.vmState}`} data-testid={`state-${w.name}`}>{w.vmState}</span>
                  {w.taskState ? <span className="muted"> ({w.taskState})</span> : null}
                  {w.exitCode !== undefined && <div className="muted">exit code {w.exitCode}</div>}
                  {migrations[w.workloadId] && (
                    <div className="muted" aria-label={`migration of ${w.name}`}>
                      migration {migrations[w.workloadId]!.phase}: {bytes(migrations[w.workloadId]!.bytesSent)} sent, all rounds compressed (folder {bytes(migrations[w.workloadId]!.bytesTotal)})
                    </div>
                  )}
                </td>
                <td>{nodeName(w.nodeId)}</td>
                <td>{w.driver}</td>
                <td>{((w.cpuMillis ?? 0) / 1000).toFixed(2)} cores, {bytes(w.memoryBytes)}</td>
                <td>{time(w.createdAtMs)}</td>
                <td className="row">
                  <ActionButton label="Logs" run={async () => {
                    const log = await api.get<{ text?: string }>(`/api/compute/workloads/${w.workloadId}/logs?stream=stdout&tailBytes=16384`);
                    setLogs({ name: w.name, text: log.text ?? "" });
                  }} />
                  {operator &&
                    (w.allowedActions ?? []).filter((a) => actions[a]).map((a) => (
                      <ActionButton key={a} label={`${actions[a]!.label}`} confirm={actions[a]!.confirm ? `Delete ${w.name}?` : undefined} run={() => act(w, a)} />
                    ))}
                  {operator && w.vmState === "active" && (
                    <ActionButton label="Migrate" run={() => api.post(`/api/compute/workloads/${w.workloadId}/migrate`, {})} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {logs && (
        <section className="panel" aria-label={`Logs of ${logs.name}`}>
          <h2>Output of {logs.name}</h2>
          <pre className="logs">{logs.text || "(nothing written yet)"}</pre>
        </section>
      )}
    </>
  );
}
