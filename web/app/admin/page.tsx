"use client";

import { useState } from "react";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { ActionButton, Choice, Failure, Field, useSubmit } from "@/components/ui";
import { saveFile } from "@/lib/download";
import { time } from "@/lib/format";
import { Tokens } from "./Tokens";

type User = { username: string; role: string; disabled?: boolean; createdAt?: string; lastLoginAt?: string };
type AuditEvent = { seq: number; at: string; actor: string; role: string; action: string; target: string; status: number };

export default function AdminPage() {
  const { api } = usePlatform();
  const users = useResource<{ users?: User[] }>("/api/auth/users");
  const [filters, setFilters] = useState({ user: "", action: "" });
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
  const audit = useResource<{ events?: AuditEvent[] }>(`/api/audit${query ? `?${query}` : ""}`, ["audit"]);
  const [verification, setVerification] = useState<string>();
  const [draft, setDraft] = useState({ username: "", password: "", role: "viewer" });
  const { errors, message, busy, submit } = useSubmit();
  return (
    <>
      <h1>Administration</h1>
      <h2>Users</h2>
      <Failure error={users.error} />
      <form
        className="panel"
        aria-label="Add a user"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!(await submit(() => api.post("/api/auth/users", draft)))) return;
          setDraft({ username: "", password: "", role: "viewer" });
          users.reload();
        }}
      >
        <div className="form-grid">
          <Field label="New username" name="username" value={draft.username} onChange={(e) => setDraft({ ...draft, username: e.target.value })} error={errors.username} />
          <Field label="New password" name="password" type="password" autoComplete="new-password" value={draft.password} onChange={(e) => setDraft({ ...draft, password: e.target.value })} error={errors.password} />
          <Choice label="Role" name="role" options={["viewer", "operator", "admin"]} value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })} error={errors.role} />
          <button type="submit" className="primary" disabled={busy}>Add user</button>
        </div>
        <Failure error={message} />
      </form>
      <div className="table-wrap">
        <table aria-label="Users">
          <thead><tr><th>User</th><th>Role</th><th>State</th><th>Actions</th></tr></thead>
          <tbody>
            {(users.data?.users ?? []).map((u) => (
              <tr key={u.username}>
                <td>{u.username}</td><td>{u.role}</td><td>{u.disabled ? "disabled" : "active"}</td>
                <td className="row">
                  <ActionButton label={u.disabled ? `Enable ${u.username}` : `Disable ${u.username}`} run={async () => { await api.put(`/api/auth/users/${encodeURIComponent(u.username)}`, { disabled: !u.disabled }); users.reload(); }} />
                  <ActionButton label={`Unlock ${u.username}`} run={() => api.post(`/api/auth/users/${encodeURIComponent(u.username)}/unlock`, {})} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Tokens />
      <h2>Audit log</h2>
      <div className="row">
        <Field label="Filter by user" name="audit-user" value={filters.user} onChange={(e) => setFilters({ ...filters, user: e.target.value })} />
        <Field label="Filter by action" name="audit-action" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })} />
        <ActionButton label="Export CSV" run={async () => saveFile("audit.csv", await api.text(`/api/audit/export.csv${query ? `?${query}` : ""}`), "text/csv")} />
        <ActionButton label="Verify the chain" run={async () => setVerification(JSON.stringify(await api.post("/api/audit/verify", {})))} />
      </div>
      {verification && <p aria-live="polite">Verification: <code>{verification}</code></p>}
      <Failure error={audit.error} />
      <div className="table-wrap">
        <table aria-label="Audit log">
          <thead><tr><th>#</th><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Status</th></tr></thead>
          <tbody>
            {(audit.data?.events ?? []).map((e) => (
              <tr key={e.seq}><td>{e.seq}</td><td>{time(Date.parse(e.at))}</td><td>{e.actor} <span className="muted">({e.role})</span></td><td>{e.action}</td><td>{e.target}</td><td>{e.status}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
