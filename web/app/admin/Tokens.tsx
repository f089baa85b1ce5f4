"use client";

import { useState } from "react";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { ActionButton, Choice, Failure, Field, useSubmit } from "@/components/ui";
import { time } from "@/lib/format";

type TokenView = { tokenId: string; display: string; name: string; kind: string; subject: string; role: string; createdBy: string; createdAt: string; expiresAt?: string; lastUsedAt?: string; revokedAt?: string };

/** API tokens for scripts and agent tokens for outside agents: made here, shown once, listed by prefix, revoked. */
export function Tokens() {
  const { api } = usePlatform();
  const tokens = useResource<{ tokens?: TokenView[] }>("/api/auth/tokens?all=true");
  const [draft, setDraft] = useState({ kind: "API token", name: "", role: "viewer", agentId: "", days: "90" });
  const [shown, setShown] = useState<string>();
  const { errors, message, busy, submit } = useSubmit();
  return (
    <>
      <h2>API and agent tokens</h2>
      <form
        className="panel"
        aria-label="Make a token"
        onSubmit={async (e) => {
          e.preventDefault();
          setShown(undefined);
          let made: { token: string } | undefined;
          const days = Number(draft.days) || undefined;
          const ok = await submit(async () => {
            made = draft.kind === "API token"
              ? await api.post<{ token: string }>("/api/auth/tokens", { name: draft.name, role: draft.role, expiresInDays: days })
              : await api.post<{ token: string }>("/api/auth/agents", { agentId: draft.agentId, name: draft.name, expiresInDays: days });
          });
          if (!ok || !made) return;
          setShown(made.token);
          tokens.reload();
        }}
      >
        <div className="form-grid">
          <Choice label="Kind" name="kind" options={["API token", "Agent token"]} value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value })} />
          <Field label="Token name" name="name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} error={errors.name} />
          {draft.kind === "API token" ? (
            <Choice label="Token role" name="role" options={["viewer", "operator", "admin"]} value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })} error={errors.role} />
          ) : (
            <Field label="Agent id" name="agentId" placeholder="edge-1, or edge-* for a fleet" value={draft.agentId} onChange={(e) => setDraft({ ...draft, agentId: e.target.value })} error={errors.agentId} />
          )}
          <Field label="Expires in days" name="expiresInDays" inputMode="numeric" value={draft.days} onChange={(e) => setDraft({ ...draft, days: e.target.value })} error={errors.expiresInDays} />
          <button type="submit" className="primary" disabled={busy}>Make token</button>
        </div>
        <Failure error={message} />
        {shown && (
          <p role="status">
            The new token, shown this once: <code data-testid="new-token">{shown}</code>
          </p>
        )}
      </form>
      <Failure error={tokens.error} />
      <div className="table-wrap">
        <table aria-label="Tokens">
          <thead><tr><th>Name</th><th>Kind</th><th>For</th><th>Role</th><th>Token</th><th>Last used</th><th>Expires</th><th>Actions</th></tr></thead>
          <tbody>
            {(tokens.data?.tokens ?? []).filter((t) => !t.revokedAt).map((t) => (
              <tr key={t.tokenId}>
                <td>{t.name}</td><td>{t.kind}</td><td>{t.subject}</td><td>{t.role}</td><td><code>{t.display}</code></td>
                <td>{t.lastUsedAt ? time(Date.parse(t.lastUsedAt)) : "never"}</td><td>{t.expiresAt ? time(Date.parse(t.expiresAt)) : "never"}</td>
                <td><ActionButton label={`Revoke token ${t.name}`} confirm={`Revoke ${t.name}? What uses it stops working.`} run={async () => { await api.delete(`/api/auth/tokens/${encodeURIComponent(t.tokenId)}`); tokens.reload(); }} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
