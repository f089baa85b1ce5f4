"use client";

import { useState } from "react";
import { usePlatform } from "@/components/PlatformContext";
import { Choice, Failure, Field, useSubmit } from "@/components/ui";
import { newKey } from "@/lib/api";
import { workloadRequest, type WorkloadForm } from "@/lib/forms";

const empty: WorkloadForm = { name: "", driver: "process", command: "", args: "", cpuCores: "0.5", memoryMiB: "128", nodeId: "", restartPolicy: "never" };

export function CreateWorkload({ nodes, onCreated }: { nodes: { nodeId: string; name: string }[]; onCreated: () => void }) {
  const { api } = usePlatform();
  const [form, setForm] = useState(empty);
  const { errors, setErrors, message, busy, submit } = useSubmit();
  // One key per form filled in: a double click or a retry after a lost answer creates one workload, not two.
  const [key, setKey] = useState(newKey);
  const set = (field: keyof WorkloadForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [field]: e.target.value });
  return (
    <form
      className="panel"
      aria-label="Create a workload"
      onSubmit={async (e) => {
        e.preventDefault();
        const { request, errors } = workloadRequest(form, key);
        setErrors(errors);
        if (!request || !(await submit(() => api.post("/api/compute/workloads", request)))) return;
        setForm(empty);
        setKey(newKey());
        onCreated();
      }}
    >
      <h2>Create a workload</h2>
      <div className="form-grid">
        <Field label="Name" name="name" value={form.name} onChange={set("name")} error={errors.name} />
        <Choice label="Driver" name="driver" options={["process", "sandbox", "qemu"]} value={form.driver} onChange={set("driver")} error={errors.driver} />
        <Field label="Command" name="command" value={form.command} onChange={set("command")} error={errors.command} />
        <Field label="Arguments" name="args" value={form.args} onChange={set("args")} error={errors.args} />
        <Field label="CPU cores" name="cpu_millis" value={form.cpuCores} onChange={set("cpuCores")} error={errors.cpu_millis} inputMode="decimal" />
        <Field label="Memory (MiB)" name="memory_bytes" value={form.memoryMiB} onChange={set("memoryMiB")} error={errors.memory_bytes} inputMode="numeric" />
        <Choice label="Node" name="node_id" options={[{ value: "", label: "best fit" }, ...nodes.map((n) => ({ value: n.nodeId, label: n.name }))]} value={form.nodeId} onChange={set("nodeId")} error={errors.node_id} />
        <Choice label="Restart policy" name="restart_policy" options={["never", "on-failure", "always"]} value={form.restartPolicy} onChange={set("restartPolicy")} error={errors.restart_policy} />
        <button type="submit" className="primary" disabled={busy}>Create workload</button>
      </div>
      <Failure error={message} />
    </form>
  );
}
