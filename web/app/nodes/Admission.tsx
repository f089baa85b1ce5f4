"use client";

import { useCallback, useRef, useState } from "react";
import { usePlatform, useReloadOn } from "@/components/PlatformContext";
import { ActionButton } from "@/components/ui";
import { ago } from "@/lib/format";
import { atLeast, type Role } from "@/lib/session";
import type { Node } from "./page";

/**
 * Seed 000's "discover nodes" action: the agents that registered but wait for an admin to admit them (with
 * Compute__Admission__Mode=Manual). Undefined until asked; once asked, kept current from the `nodes` topic.
 */
export function useDiscovery(): [Node[] | undefined, () => Promise<void>] {
  const { api } = usePlatform();
  const [waiting, setWaiting] = useState<Node[]>();
  const asked = useRef(0);
  const discover = useCallback(async () => {
    const ask = ++asked.current;
    const answer = await api.post<{ nodes?: Node[] }>("/api/actions/discover_nodes", {});
    if (ask === asked.current) setWaiting(answer.nodes ?? []); // an older answer arriving last must not bring back an admitted node
  }, [api]);
  useReloadOn(waiting ? ["nodes"] : [], () => void discover().catch(() => undefined));
  return [waiting, discover];
}

/** The nodes waiting for admission; admins admit or reject each, operators see who waits. */
export function WaitingNodes({ nodes, role, onChange }: { nodes: Node[]; role: Role | undefined; onChange: () => Promise<void> }) {
  const { api } = usePlatform();
  const admin = atLeast(role, "admin");
  return (
    <section className="panel" aria-label="Waiting for admission">
      <h2>Waiting for admission</h2>
      {nodes.length === 0 ? (
        <p className="muted">No node is waiting: every registered agent is admitted or rejected.</p>
      ) : (
        <ul>
          {nodes.map((n) => (
            <li key={n.nodeId} className="row">
              <strong>{n.name}</strong>
              <span className="muted">{(n.addresses ?? []).join(", ")} · {n.capacity?.cpuCores ?? 0} cores · heartbeat {ago(n.lastHeartbeatAtMs)}</span>
              {admin ? (
                <>
                  <ActionButton label={`Admit ${n.name}`} primary run={() => api.post(`/api/compute/nodes/${n.nodeId}/admit`, {}).then(onChange)} />
                  <ActionButton label={`Reject ${n.name}`} confirm={`Refuse ${n.name}'s agent from now on?`} run={() => api.post(`/api/compute/nodes/${n.nodeId}/reject`, { reason: "rejected from the control panel" }).then(onChange)} />
                </>
              ) : (
                <span className="muted">an admin admits it</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
