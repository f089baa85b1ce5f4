"use client";

import { useState } from "react";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { ActionButton, Failure, Field, useSubmit } from "@/components/ui";
import { saveFile } from "@/lib/download";
import { time } from "@/lib/format";

type Peer = { peerId: string; name: string; owner?: string; endpoint?: string; allowedIps?: string[]; createdAtMs?: string; revokedAtMs?: string; keys?: { address?: string; publicKey?: string }[] };

export function VpnPeers() {
  const { api } = usePlatform();
  const peers = useResource<{ peers?: Peer[] }>("/api/privacy/vpn/peers");
  const [name, setName] = useState("");
  const { errors, setErrors, message, busy, submit } = useSubmit();
  return (
    <>
      <h2>VPN peers</h2>
      <Failure error={peers.error} />
      <form
        className="panel"
        aria-label="Add a VPN peer"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!/^[a-z0-9-]{1,64}$/.test(name)) {
            setErrors({ name: "1-64 lowercase letters, digits and '-'" });
            return;
          }
          if (!(await submit(() => api.post("/api/privacy/vpn/peers", { name })))) return;
          setName("");
          peers.reload();
        }}
      >
        <div className="form-grid">
          <Field label="Peer name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
          <button type="submit" className="primary" disabled={busy}>Add peer</button>
        </div>
        <Failure error={message} />
      </form>
      <div className="table-wrap">
        <table aria-label="VPN peers">
          <thead><tr><th>Peer</th><th>Owner</th><th>Address</th><th>Created</th><th>Actions</th></tr></thead>
          <tbody>
            {(peers.data?.peers ?? []).filter((p) => !p.revokedAtMs || p.revokedAtMs === "0").map((p) => (
              <tr key={p.peerId}>
                <td>{p.name}</td>
                <td>{p.owner}</td>
                <td>{p.keys?.[0]?.address ?? (p.allowedIps ?? []).join(", ")}</td>
                <td>{time(p.createdAtMs)}</td>
                <td className="row">
                  <ActionButton label={`Download config of ${p.name}`} run={async () => saveFile(`${p.name}.conf`, await api.text(`/api/privacy/vpn/peers/${p.peerId}/config`))} />
                  <ActionButton label={`Rotate key of ${p.name}`} run={async () => { await api.post(`/api/privacy/vpn/peers/${p.peerId}/rotate`, {}); peers.reload(); }} />
                  <ActionButton label={`Revoke ${p.name}`} confirm={`Revoke ${p.name}? Its tunnels stop.`} run={async () => { await api.delete(`/api/privacy/vpn/peers/${p.peerId}`); peers.reload(); }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
