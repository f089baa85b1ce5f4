"use client";

import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { bytes, number, time } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { VpnPeers } from "./VpnPeers";

type Relay = { node: string; address?: string; port?: number; flags?: string[]; reachable?: boolean; probeLatencyMs?: number; bandwidthBytesPerSecond?: string; enabled?: boolean };
type RelayStatus = { relay: Relay; connections?: number; circuits?: number; cellsRelayed?: number; bytesRelayed?: number; extendLatencyMs?: number; protocolViolations?: number };
type Status = { relays?: RelayStatus[]; total?: number; running?: number; consensusValidAfterMs?: string; consensusValidUntilMs?: string };
type Circuit = { id: string; state: string; hops?: string[]; ageSeconds?: number; bytesSent?: string; bytesReceived?: string; streams?: number; buildMs?: number };
type Stats = { built?: string; failed?: string; active?: number; buildP50Ms?: number; buildP95Ms?: number; socksAddress?: string };

export default function PrivacyPage() {
  const { api } = usePlatform();
  const role = useTokens()?.user.role;
  const status = useResource<Status>("/api/betanet/status", ["circuits"]);
  const circuits = useResource<{ circuits?: Circuit[] }>("/api/privacy/circuits", ["circuits"]);
  const stats = useResource<Stats>("/api/privacy/stats", ["circuits"]);
  const operator = atLeast(role, "operator");
  return (
    <>
      <h1>Privacy</h1>
      <h2>Relays</h2>
      <Failure error={status.error} />
      <p className="muted">
        {number(status.data?.running)} of {number(status.data?.total)} relays running · consensus valid {time(status.data?.consensusValidAfterMs)} – {time(status.data?.consensusValidUntilMs)}
      </p>
      {operator && <ActionButton label="Deploy a relay" run={async () => { await api.post("/api/betanet/deploy", {}); status.reload(); }} />}
      <div className="table-wrap">
        <table aria-label="Relays">
          <thead><tr><th>Node</th><th>Address</th><th>Flags</th><th>Probe</th><th>Bandwidth</th><th>Connections</th><th>Cells relayed</th><th>Actions</th></tr></thead>
          <tbody>
            {(status.data?.relays ?? []).map(({ relay, ...measured }) => (
              <tr key={relay.node}>
                <td>{relay.node}</td>
                <td>{relay.address}:{relay.port}</td>
                <td>{(relay.flags ?? []).join(" ") || "–"}</td>
                <td>{relay.reachable ? `${number(relay.probeLatencyMs, 2)} ms` : "unreachable"}</td>
                <td>{bytes(relay.bandwidthBytesPerSecond)}/s</td>
                <td>{measured.connections ?? "–"}</td>
                <td>{measured.cellsRelayed === undefined ? "–" : number(measured.cellsRelayed)}</td>
                <td>{operator && <ActionButton label={`Retire relay on ${relay.node}`} confirm={`Stop the relay on ${relay.node}?`} run={async () => { await api.delete(`/api/betanet/relays/${relay.node}`); status.reload(); }} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Circuits</h2>
      <Failure error={stats.error ?? circuits.error} />
      <p className="muted">
        {number(stats.data?.built)} built, {number(stats.data?.failed)} failed, {number(stats.data?.active)} open · build p50 {number(stats.data?.buildP50Ms, 2)} ms, p95 {number(stats.data?.buildP95Ms, 2)} ms · SOCKS5 entry {stats.data?.socksAddress}
      </p>
      <div className="table-wrap">
        <table aria-label="Circuits">
          <thead><tr><th>Circuit</th><th>State</th><th>Hops</th><th>Age</th><th>Sent</th><th>Received</th><th>Streams</th></tr></thead>
          <tbody>
            {(circuits.data?.circuits ?? []).map((c) => (
              <tr key={c.id}><td>{c.id}</td><td>{c.state}</td><td>{(c.hops ?? []).join(" → ")}</td><td>{number(c.ageSeconds)} s</td><td>{bytes(c.bytesSent)}</td><td>{bytes(c.bytesReceived)}</td><td>{c.streams}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <VpnPeers />
    </>
  );
}
