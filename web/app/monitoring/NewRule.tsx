"use client";

import { useState } from "react";
import { usePlatform } from "@/components/PlatformContext";
import { Choice, Failure, Field, useSubmit } from "@/components/ui";

const empty = { name: "", metric: "", match: "", aggregation: "avg", comparator: ">", threshold: "", forSeconds: "60", severity: "warning", summary: "" };

/** A new alert rule (operators): the API checks every field and names what it refuses. */
export function NewRule({ onCreated }: { onCreated: () => void }) {
  const { api } = usePlatform();
  const [draft, setDraft] = useState(empty);
  const { errors, message, busy, submit } = useSubmit();
  const set = (field: keyof typeof empty) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [field]: e.target.value });
  return (
    <form
      className="panel"
      aria-label="New alert rule"
      onSubmit={async (e) => {
        e.preventDefault();
        const rule = {
          name: draft.name, metric: draft.metric, aggregation: draft.aggregation, comparator: draft.comparator, severity: draft.severity, summary: draft.summary,
          match: draft.match.split(",").map((m) => m.trim()).filter(Boolean),
          threshold: Number(draft.threshold), forMs: String(Number(draft.forSeconds) * 1000),
        };
        if (!(await submit(() => api.post("/api/telemetry/alerts/rules", rule)))) return;
        setDraft(empty);
        onCreated();
      }}
    >
      <h2>New alert rule</h2>
      <div className="form-grid">
        <Field label="Rule name" name="name" value={draft.name} onChange={set("name")} error={errors.name} />
        <Field label="Rule metric" name="metric" value={draft.metric} onChange={set("metric")} error={errors.metric} />
        <Field label="Rule label filters" name="match" placeholder="node=node-0" value={draft.match} onChange={set("match")} error={errors.match} />
        <Choice label="Rule aggregation" name="aggregation" options={["avg", "min", "max", "sum", "count", "p95", "rate", "increase"]} value={draft.aggregation} onChange={set("aggregation")} error={errors.aggregation} />
        <Choice label="Comparator" name="comparator" options={[">", ">=", "<", "<=", "==", "!="]} value={draft.comparator} onChange={set("comparator")} error={errors.comparator} />
        <Field label="Threshold" name="threshold" inputMode="decimal" value={draft.threshold} onChange={set("threshold")} error={errors.threshold} />
        <Field label="For (seconds)" name="for_ms" inputMode="numeric" value={draft.forSeconds} onChange={set("forSeconds")} error={errors.for_ms} />
        <Choice label="Severity" name="severity" options={["info", "warning", "critical"]} value={draft.severity} onChange={set("severity")} error={errors.severity} />
        <Field label="Summary" name="summary" value={draft.summary} onChange={set("summary")} error={errors.summary} />
        <button type="submit" className="primary" disabled={busy}>Add rule</button>
      </div>
      <Failure error={message} />
    </form>
  );
}
