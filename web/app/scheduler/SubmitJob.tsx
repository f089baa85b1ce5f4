"use client";

import { useState } from "react";
import { usePlatform } from "@/components/PlatformContext";
import { Choice, Failure, Field, useSubmit } from "@/components/ui";
import { jobRequest, type JobForm } from "@/lib/forms";

const empty: JobForm = { name: "", tier: "silver", cpu: "0.5", memoryMiB: "64", command: "", args: "", runtimeSeconds: "30" };

export function SubmitJob({ onSubmitted }: { onSubmitted: () => void }) {
  const { api } = usePlatform();
  const [form, setForm] = useState(empty);
  const { errors, setErrors, message, busy, submit } = useSubmit();
  const set = (field: keyof JobForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [field]: e.target.value });
  return (
    <form
      className="panel"
      aria-label="Submit a job"
      onSubmit={async (e) => {
        e.preventDefault();
        const { request, errors } = jobRequest(form);
        setErrors(errors);
        if (!request || !(await submit(() => api.post("/api/scheduler/jobs", request)))) return;
        setForm(empty);
        onSubmitted();
      }}
    >
      <h2>Submit a job</h2>
      <div className="form-grid">
        <Field label="Job name" name="name" value={form.name} onChange={set("name")} error={errors.name} />
        <Choice label="SLA tier" name="sla_tier" options={["gold", "silver", "bronze"]} value={form.tier} onChange={set("tier")} error={errors.sla_tier} />
        <Field label="CPU cores needed" name="cpu_required" value={form.cpu} onChange={set("cpu")} error={errors.cpu_required} />
        <Field label="Memory needed (MiB)" name="memory_required" value={form.memoryMiB} onChange={set("memoryMiB")} error={errors.memory_required} />
        <Field label="Job command" name="command" value={form.command} onChange={set("command")} error={errors.command} />
        <Field label="Job arguments" name="args" value={form.args} onChange={set("args")} error={errors.args} />
        <Field label="Estimated runtime (s)" name="estimated_runtime_seconds" value={form.runtimeSeconds} onChange={set("runtimeSeconds")} error={errors.estimated_runtime_seconds} />
        <button type="submit" className="primary" disabled={busy}>Submit job</button>
      </div>
      <Failure error={message} />
    </form>
  );
}
