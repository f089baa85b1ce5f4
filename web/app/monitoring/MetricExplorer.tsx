"use client";

import { useMemo, useState } from "react";
import { TimeChart } from "@/components/Charts";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { Failure } from "@/components/ui";

type Series = { labels?: Record<string, string>; points?: { timestampMs: string; value: number }[] };
const ranges: Record<string, number> = { "15 minutes": 15, "1 hour": 60, "6 hours": 360, "24 hours": 1440 };
const aggregations = ["avg", "min", "max", "sum", "count", "p50", "p95", "p99", "rate", "increase"];

/** A metric by name, filtered by labels, over a range and step, aggregated and grouped: Telemetry's query_range, drawn. */
export function MetricExplorer() {
  const { api } = usePlatform();
  const names = useResource<{ names?: string[] }>("/api/telemetry/metrics/names");
  const [query, setQuery] = useState({ name: "node_cpu_usage_percent", match: "", range: "1 hour", step: "60", aggregation: "avg", by: "node" });
  const [result, setResult] = useState<{ title: string; series: Series[] }>();
  const [error, setError] = useState<string>();
  const set = (field: keyof typeof query) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setQuery({ ...query, [field]: e.target.value });
  const chart = useMemo(() => {
    if (!result || result.series.length === 0) return undefined;
    const times = [...new Set(result.series.flatMap((s) => (s.points ?? []).map((p) => Number(p.timestampMs))))].sort((a, b) => a - b);
    return {
      times: times.map((t) => t / 1000),
      series: result.series.map((s) => {
        const byTime = new Map((s.points ?? []).map((p) => [Number(p.timestampMs), p.value]));
        return { label: Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(" ") || "all", values: times.map((t) => byTime.get(t) ?? null) };
      }),
    };
  }, [result]);
  return (
    <section className="panel" aria-label="Metric explorer">
      <h2>Metric explorer</h2>
      <form
        className="form-grid"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          const end = Date.now();
          const start = end - ranges[query.range]! * 60_000;
          const params = new URLSearchParams({ name: query.name, startMs: String(start), endMs: String(end), stepMs: String(Number(query.step) * 1000), aggregation: query.aggregation });
          for (const m of query.match.split(",").map((x) => x.trim()).filter(Boolean)) params.append("match", m);
          for (const b of query.by.split(",").map((x) => x.trim()).filter(Boolean)) params.append("by", b);
          try {
            const response = await api.get<{ series?: Series[] }>(`/api/telemetry/query_range?${params}`);
            setResult({ title: `${query.aggregation}(${query.name}) by ${query.by || "nothing"}`, series: response.series ?? [] });
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          }
        }}
      >
        <label>
          Metric
          <input name="metric" list="metric-names" value={query.name} onChange={set("name")} />
          <datalist id="metric-names">{(names.data?.names ?? []).map((n) => <option key={n} value={n} />)}</datalist>
        </label>
        <label>Label filters<input name="match" placeholder="node=node-0" value={query.match} onChange={set("match")} /></label>
        <label>Range<select name="range" value={query.range} onChange={set("range")}>{Object.keys(ranges).map((r) => <option key={r}>{r}</option>)}</select></label>
        <label>Step (seconds)<input name="step" inputMode="numeric" value={query.step} onChange={set("step")} /></label>
        <label>Aggregation<select name="aggregation" value={query.aggregation} onChange={set("aggregation")}>{aggregations.map((a) => <option key={a}>{a}</option>)}</select></label>
        <label>Group by<input name="by" value={query.by} onChange={set("by")} /></label>
        <button type="submit" className="primary">Query</button>
      </form>
      <Failure error={error} />
      {result && !chart && <p className="muted">No samples in that range.</p>}
      {result && chart && <TimeChart title={result.title} times={chart.times} series={chart.series} />}
    </section>
  );
}
