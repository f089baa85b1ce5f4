"use client";

import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { ago, number } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { MetricExplorer } from "./MetricExplorer";
import { NewRule } from "./NewRule";

type Alert = {
  alertId: string;
  name: string;
  severity?: string;
  state: string;
  value?: number;
  summary?: string;
  labels?: Record<string, string>;
  activeSinceMs?: string;
  silenced?: boolean;
  acknowledgement?: { by: string; comment?: string };
};
type Rule = { ruleId: string; name: string; metric: string; aggregation?: string; comparator: string; threshold: number; forMs?: string; severity?: string; match?: string[] };

export default function MonitoringPage() {
  const { api } = usePlatform();
  const role = useTokens()?.user.role;
  const alerts = useResource<{ alerts?: Alert[] }>("/api/monitoring/alerts", ["alerts"]);
  const rules = useResource<{ rules?: Rule[] }>("/api/telemetry/alerts/rules");
  return (
    <>
      <h1>Monitoring</h1>
      <h2>Alerts</h2>
      <Failure error={alerts.error} />
      <div className="table-wrap">
        <table aria-label="Alerts">
          <thead><tr><th>Alert</th><th>State</th><th>Value</th><th>Since</th><th>Labels</th><th>Acknowledged</th><th>Actions</th></tr></thead>
          <tbody>
            {(alerts.data?.alerts ?? []).length === 0 && <tr><td colSpan={7} className="muted">No pending or firing alerts.</td></tr>}
            {(alerts.data?.alerts ?? []).map((a) => (
              <tr key={a.alertId} aria-label={`alert ${a.name}`}>
                <td><strong>{a.name}</strong> <span className="muted">{a.severity}</span><div className="muted">{a.summary}</div></td>
                <td className={`state-${a.state}`}>{a.state}{a.silenced ? " (silenced)" : ""}</td>
                <td>{number(a.value, 3)}</td>
                <td>{ago(a.activeSinceMs)}</td>
                <td className="muted">{Object.entries(a.labels ?? {}).filter(([k]) => k !== "alertname" && k !== "severity").map(([k, v]) => `${k}=${v}`).join(" ")}</td>
                <td>{a.acknowledgement?.by ? `by ${a.acknowledgement.by}: ${a.acknowledgement.comment ?? ""}` : "no"}</td>
                <td className="row">
                  {atLeast(role, "operator") && !a.silenced && (
                    <ActionButton
                      label={`Silence ${a.name} for an hour`}
                      run={async () => {
                        // Silences this alert's group exactly: every label it carries must match.
                        const match = Object.entries(a.labels ?? {}).map(([k, v]) => `${k}=${v}`);
                        await api.post("/api/telemetry/alerts/silences", { match, endsAtMs: String(Date.now() + 3_600_000), comment: "silenced from the control panel" });
                        alerts.reload();
                      }}
                    />
                  )}
                  {atLeast(role, "operator") && !a.acknowledgement?.by && a.state !== "resolved" && (
                    <ActionButton
                      label={`Acknowledge ${a.name}`}
                      run={async () => {
                        const comment = window.prompt(`Why acknowledge ${a.name}?`, "looking into it");
                        if (comment === null) return;
                        await api.post(`/api/monitoring/alerts/${a.alertId}/acknowledge`, { comment });
                        alerts.reload();
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <MetricExplorer />
      <h2>Alert rules</h2>
      {atLeast(role, "operator") && <NewRule onCreated={rules.reload} />}
      <Failure error={rules.error} />
      <div className="table-wrap">
        <table aria-label="Alert rules">
          <thead><tr><th>Rule</th><th>Condition</th><th>For</th><th>Severity</th><th>Actions</th></tr></thead>
          <tbody>
            {(rules.data?.rules ?? []).map((r) => (
              <tr key={r.ruleId}>
                <td>{r.name}</td>
                <td><code>{r.aggregation ?? "avg"}({r.metric}{r.match?.length ? `{${r.match.join(",")}}` : ""}) {r.comparator} {r.threshold}</code></td>
                <td>{Number(r.forMs ?? 0) / 1000} s</td>
                <td>{r.severity}</td>
                <td>
                  {atLeast(role, "operator") && (
                    <ActionButton label={`Delete rule ${r.name}`} confirm={`Delete the rule ${r.name}? Its alerts resolve.`} run={async () => { await api.delete(`/api/telemetry/alerts/rules/${encodeURIComponent(r.ruleId)}`); rules.reload(); }} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
