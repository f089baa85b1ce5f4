"use client";

import { useState } from "react";
import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure, Field, useSubmit } from "@/components/ui";
import { ago, bytes, number, time } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { Quotas, type Quota } from "./Quotas";

type Session = { sessionId: string; user: string; application: string; cpuCores?: number; memoryBytes?: string; nodeId?: string; status: string; workloadState?: string; createdAtMs?: string };
type Device = { deviceId: string; name: string; type?: string; owner?: string; cpuCores?: number; memoryBytes?: string; state: string; stateReason?: string; idleSeconds?: string; cpuLoad?: number; batteryPercent?: number; charging?: boolean; lastHeartbeatAtMs?: string; offeredHours?: number };

export default function SessionsPage() {
  const { api } = usePlatform();
  const user = useTokens()?.user;
  const sessions = useResource<{ sessions?: Session[] }>("/api/compute/sessions", ["workloads"]);
  const quota = useResource<Quota>(user ? `/api/compute/quotas/${encodeURIComponent(user.username)}` : null, ["workloads"]);
  const devices = useResource<{ devices?: Device[] }>("/api/compute/devices", ["nodes"]);
  const [draft, setDraft] = useState({ application: "", command: "", cpuCores: "1" });
  const { errors, message, busy, submit } = useSubmit();
  const q = quota.data;
  return (
    <>
      <h1>Sessions and idle devices</h1>
      <section className="panel" aria-label="Your quota">
        <h2>Your quota</h2>
        <Failure error={quota.error} />
        {q && (
          <p>
            {number(q.usedSessions)} of {number(q.sessions)} sessions · {number(q.usedCpuCores)} of {number(q.cpuCores)} cores · {bytes(q.usedMemoryBytes)} of {bytes(q.memoryBytes)}
          </p>
        )}
      </section>
      {atLeast(user?.role, "admin") && <Quotas />}
      <form
        className="panel"
        aria-label="Open a session"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!(await submit(() => api.post("/api/compute/sessions", { application: draft.application, command: draft.command, cpuCores: Number(draft.cpuCores) })))) return;
          sessions.reload();
          quota.reload();
        }}
      >
        <h2>Open a session</h2>
        <div className="form-grid">
          <Field label="Application" name="application" value={draft.application} onChange={(e) => setDraft({ ...draft, application: e.target.value })} error={errors.application} />
          <Field label="Session command" name="command" value={draft.command} onChange={(e) => setDraft({ ...draft, command: e.target.value })} error={errors.command} />
          <Field label="Cores" name="cpu_cores" inputMode="numeric" value={draft.cpuCores} onChange={(e) => setDraft({ ...draft, cpuCores: e.target.value })} error={errors.cpu_cores} />
          <button type="submit" className="primary" disabled={busy}>Open session</button>
        </div>
        <Failure error={message} />
      </form>
      <Failure error={sessions.error} />
      <div className="table-wrap">
        <table aria-label="Sessions">
          <thead><tr><th>Application</th><th>User</th><th>Status</th><th>Resources</th><th>Opened</th><th>Actions</th></tr></thead>
          <tbody>
            {(sessions.data?.sessions ?? []).map((s) => (
              <tr key={s.sessionId}>
                <td>{s.application}</td><td>{s.user}</td>
                <td className={`state-${s.status}`}>{s.status} <span className="muted">({s.workloadState})</span></td>
                <td>{s.cpuCores} cores, {bytes(s.memoryBytes)}</td><td>{time(s.createdAtMs)}</td>
                <td className="row">
                  {s.status === "active" && <ActionButton label="Pause session" run={() => api.post(`/api/compute/sessions/${s.sessionId}/pause`, {}).then(sessions.reload)} />}
                  {s.status === "paused" && <ActionButton label="Resume session" run={() => api.post(`/api/compute/sessions/${s.sessionId}/resume`, {}).then(sessions.reload)} />}
                  {s.status !== "terminated" && <ActionButton label="Terminate session" confirm="Terminate this session? Its workload is deleted." run={() => api.delete(`/api/compute/sessions/${s.sessionId}`).then(sessions.reload)} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Idle devices</h2>
      <Failure error={devices.error} />
      <div className="table-wrap">
        <table aria-label="Idle devices">
          <thead><tr><th>Device</th><th>Harvest state</th><th>Idle</th><th>CPU load</th><th>Battery</th><th>Offered</th><th>Heartbeat</th></tr></thead>
          <tbody>
            {(devices.data?.devices ?? []).length === 0 && <tr><td colSpan={7} className="muted">No device has registered (seed 003's POST /api/idle-compute/devices).</td></tr>}
            {(devices.data?.devices ?? []).map((d) => (
              <tr key={d.deviceId}>
                <td>{d.name} <span className="muted">{d.type} · {d.cpuCores} cores · {bytes(d.memoryBytes)}</span></td>
                <td>{d.state} <span className="muted">{d.stateReason}</span></td>
                <td>{number(d.idleSeconds)} s</td><td>{number(d.cpuLoad, 2)}</td>
                <td>{d.batteryPercent === undefined ? "–" : `${number(d.batteryPercent)} %${d.charging ? " charging" : ""}`}</td>
                <td>{number(d.offeredHours, 2)} h</td><td>{ago(d.lastHeartbeatAtMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
