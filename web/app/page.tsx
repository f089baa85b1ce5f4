"use client";

import { useState } from "react";
import { Sparkline } from "@/components/Charts";
import { useLiveSocket } from "@/components/useLiveSocket";
import { bytes, number } from "@/lib/format";

type Section = Record<string, unknown> & { error?: string };
type Summary = { timestamp: number } & Record<string, Section | number>;

/** A card: a headline figure from the summary, with its last minute as a sparkline. */
type Card = { key: string; label: string; value: (s: Summary) => number | undefined; detail: (s: Summary) => string };

const n = (s: Summary, section: string, field: string): number | undefined => {
  const value = (s[section] as Section | undefined)?.[field];
  return value === undefined || value === null ? undefined : Number(value);
};

const cards: Card[] = [
  { key: "nodes", label: "Nodes ready", value: (s) => n(s, "nodes", "ready"), detail: (s) => `of ${number(n(s, "nodes", "total"))}, ${number(n(s, "nodes", "cpuCores"))} cores, ${bytes(n(s, "nodes", "memoryBytes"))}` },
  { key: "workloads", label: "Workloads running", value: (s) => n(s, "workloads", "running"), detail: (s) => `of ${number(n(s, "workloads", "total"))}` },
  { key: "jobs", label: "Jobs queued", value: (s) => n(s, "scheduler", "queueLength"), detail: (s) => `${number(n(s, "scheduler", "runningJobs"))} running, ${number(n(s, "scheduler", "slaViolations"))} SLA violations` },
  { key: "tokens", label: "Token supply", value: (s) => n(s, "tokenomics", "totalSupply"), detail: (s) => `${number(n(s, "tokenomics", "totalStaked"))} staked` },
  { key: "circuits", label: "Circuits open", value: (s) => n(s, "privacy", "activeCircuits"), detail: (s) => `${number(n(s, "privacy", "circuitsBuilt"))} built, ${number(n(s, "betanet", "activeNodes"))} relays running` },
  { key: "alerts", label: "Alerts firing", value: (s) => n(s, "monitoring", "alertsFiring"), detail: (s) => `${number(n(s, "monitoring", "alertsPending"))} pending, ${number(n(s, "monitoring", "agentsOnline"))} agents online` },
  { key: "ingest", label: "Samples per second", value: (s) => n(s, "monitoring", "ingestRate"), detail: (s) => `${number(n(s, "monitoring", "series"))} series` },
  { key: "idle", label: "Idle devices harvesting", value: (s) => n(s, "idleCompute", "harvesting"), detail: (s) => `of ${number(n(s, "idleCompute", "totalDevices"))} devices` },
];

const keep = 60;

export default function Dashboard() {
  const [latest, setLatest] = useState<Summary>();
  const [history, setHistory] = useState<{ times: number[]; values: Record<string, number[]> }>({ times: [], values: {} });
  useLiveSocket<Summary>("/ws/metrics", (summary) => {
    const w = window as unknown as { platformFirstLiveUpdate?: number };
    w.platformFirstLiveUpdate ??= performance.now();
    setLatest(summary);
    setHistory((h) => ({
      times: [...h.times, summary.timestamp / 1000].slice(-keep),
      values: Object.fromEntries(cards.map((c) => [c.key, [...(h.values[c.key] ?? []), c.value(summary) ?? 0].slice(-keep)])),
    }));
  });
  const unavailable = latest
    ? Object.entries(latest).filter(([, v]) => typeof v === "object" && v !== null && "error" in v).map(([k]) => k)
    : [];
  return (
    <>
      <h1>Dashboard</h1>
      {!latest && <p className="muted">Waiting for the first update…</p>}
      {latest && (
        <p className="muted" aria-live="polite" data-testid="dashboard-updated">
          Updated {new Date(latest.timestamp).toLocaleTimeString()}
        </p>
      )}
      {unavailable.length > 0 && <p className="error">Not answering: {unavailable.join(", ")}</p>}
      <div className="cards">
        {latest &&
          cards.map((card) => (
            <div className="card" key={card.key} aria-label={card.label}>
              <div className="label">{card.label}</div>
              <div className="figure">{card.value(latest) === undefined ? "–" : number(card.value(latest), 1)}</div>
              <div className="muted">{card.detail(latest)}</div>
              <Sparkline label={card.label} times={history.times} values={history.values[card.key] ?? []} />
            </div>
          ))}
      </div>
    </>
  );
}
