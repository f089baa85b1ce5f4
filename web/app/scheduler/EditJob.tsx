"use client";

import { useState } from "react";
import { usePlatform } from "@/components/PlatformContext";
import { Choice, Failure, Field, useSubmit } from "@/components/ui";
import { jobUpdate, type JobNeedsForm } from "@/lib/forms";

export type PendingJob = { jobId: string; name: string; slaTier?: string; cpuRequired?: number; memoryRequired?: string; estimatedRuntimeSeconds?: string };

/** Changes a pending job's tier and needs (PATCH sends only what changed); the Scheduler answers 409 once it is placed. */
export function EditJob({ job, onSaved }: { job: PendingJob; onSaved: () => void }) {
  const { api } = usePlatform();
  const was: JobNeedsForm = {
    tier: job.slaTier ?? "silver",
    cpu: String(job.cpuRequired ?? ""),
    memoryMiB: String(job.memoryRequired ?? ""),
    runtimeSeconds: String(job.estimatedRuntimeSeconds ?? ""),
  };
  const [form, setForm] = useState(was);
  const { errors, setErrors, message, busy, submit } = useSubmit();
  const set = (field: keyof JobNeedsForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [field]: e.target.value });
  return (
    <form
      aria-label={`Edit job ${job.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const { request, errors } = jobUpdate(form, was);
        setErrors(errors);
        if (!request || Object.keys(request).length === 0) return;
        if (await submit(() => api.patch(`/api/scheduler/jobs/${job.jobId}`, request))) onSaved();
      }}
    >
      <h3>Change while pending</h3>
      <div className="form-grid">
        <Choice label="SLA tier" name="sla_tier" options={["gold", "silver", "bronze"]} value={form.tier} onChange={set("tier")} error={errors.sla_tier} />
        <Field label="CPU cores needed" name="cpu_required" value={form.cpu} onChange={set("cpu")} error={errors.cpu_required} />
        <Field label="Memory needed (MiB)" name="memory_required" value={form.memoryMiB} onChange={set("memoryMiB")} error={errors.memory_required} />
        <Field label="Estimated runtime (s)" name="estimated_runtime_seconds" value={form.runtimeSeconds} onChange={set("runtimeSeconds")} error={errors.estimated_runtime_seconds} />
        <button type="submit" className="primary" disabled={busy}>Save changes</button>
      </div>
      <Failure error={message} />
    </form>
  );
}
