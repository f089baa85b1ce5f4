"use client";

import { useEffect, useState } from "react";
import { usePlatform, useReloadOn, useResource } from "@/components/PlatformContext";
import { Failure, Field, useSubmit } from "@/components/ui";
import { bytes, number } from "@/lib/format";

export type Quota = { user: string; cpuCores?: number; gpuUnits?: number; memoryBytes?: string; sessions?: number; usedCpuCores?: number; usedMemoryBytes?: string; usedSessions?: number };

const mib = 1024 * 1024;

/** Admins: every user's quota beside what their open sessions use, and a form to change one (PUT replaces it whole). */
export function Quotas() {
  const { api } = usePlatform();
  const users = useResource<{ users?: { username: string }[] }>("/api/auth/users");
  const [quotas, setQuotas] = useState<Quota[]>([]);
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<Quota>();
  const names = (users.data?.users ?? []).map((u) => u.username).join("\n");
  const [version, setVersion] = useState(0);
  // What sessions use changes with their workloads.
  useReloadOn(["workloads"], () => setVersion((v) => v + 1));
  useEffect(() => {
    if (!names) return;
    let current = true;
    Promise.all(names.split("\n").map((user) => api.get<Quota>(`/api/compute/quotas/${encodeURIComponent(user)}`))).then(
      (all) => current && (setQuotas(all), setError(undefined)),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [api, names, version]);
  return (
    <section className="panel" aria-label="Quotas">
      <h2>Quotas</h2>
      <Failure error={users.error ?? error} />
      <div className="table-wrap">
        <table aria-label="Quotas of every user">
          <thead><tr><th>User</th><th>Sessions</th><th>Cores</th><th>Memory</th><th>GPU units</th><th></th></tr></thead>
          <tbody>
            {quotas.map((q) => (
              <tr key={q.user} aria-label={`quota of ${q.user}`}>
                <td>{q.user}</td>
                <td>{number(q.usedSessions)} of {number(q.sessions)}</td>
                <td>{number(q.usedCpuCores)} of {number(q.cpuCores)}</td>
                <td>{bytes(q.usedMemoryBytes)} of {bytes(q.memoryBytes)}</td>
                <td>{number(q.gpuUnits)}</td>
                <td><button onClick={() => setEditing(q)}>Change quota of {q.user}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing && <QuotaForm key={editing.user} quota={editing} onSaved={() => { setEditing(undefined); setVersion((v) => v + 1); }} />}
    </section>
  );
}

function QuotaForm({ quota, onSaved }: { quota: Quota; onSaved: () => void }) {
  const { api } = usePlatform();
  const initialMiB = String(Math.round(Number(quota.memoryBytes ?? 0) / mib));
  const [form, setForm] = useState({
    sessions: String(quota.sessions ?? 0),
    cpuCores: String(quota.cpuCores ?? 0),
    memoryMiB: initialMiB,
    gpuUnits: String(quota.gpuUnits ?? 0),
  });
  const { errors, setErrors, message, busy, submit } = useSubmit();
  const set = (field: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [field]: e.target.value });
  return (
    <form
      aria-label={`Quota of ${quota.user}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const whole = (text: string) => (/^[0-9]{1,9}$/.test(text) ? Number(text) : undefined);
        const request = { sessions: whole(form.sessions), cpuCores: whole(form.cpuCores), memoryBytes: whole(form.memoryMiB), gpuUnits: whole(form.gpuUnits) };
        const bad = Object.fromEntries(
          ([["sessions", request.sessions], ["cpu_cores", request.cpuCores], ["memory_bytes", request.memoryBytes], ["gpu_units", request.gpuUnits]] as const)
            .filter(([, value]) => value === undefined)
            .map(([field]) => [field, "a whole number, 0 or more"]),
        );
        setErrors(bad);
        if (Object.keys(bad).length > 0) return;
        // A PUT replaces the whole quota: memory that was not a whole number of MiB stays as it was unless edited.
        const memoryBytes = form.memoryMiB === initialMiB ? String(quota.memoryBytes ?? 0) : String(request.memoryBytes! * mib);
        const body = { ...request, memoryBytes };
        if (await submit(() => api.put(`/api/compute/quotas/${encodeURIComponent(quota.user)}`, body))) onSaved();
      }}
    >
      <h3>Quota of {quota.user}</h3>
      <div className="form-grid">
        <Field label="Open sessions at once" name="sessions" inputMode="numeric" value={form.sessions} onChange={set("sessions")} error={errors.sessions} />
        <Field label="Cores in all" name="cpu_cores" inputMode="numeric" value={form.cpuCores} onChange={set("cpuCores")} error={errors.cpu_cores} />
        <Field label="Memory in all (MiB)" name="memory_bytes" inputMode="numeric" value={form.memoryMiB} onChange={set("memoryMiB")} error={errors.memory_bytes} />
        <Field label="GPU units" name="gpu_units" inputMode="numeric" value={form.gpuUnits} onChange={set("gpuUnits")} error={errors.gpu_units} />
        <button type="submit" className="primary" disabled={busy}>Save quota</button>
      </div>
      <Failure error={message} />
    </form>
  );
}
