"use client";

import { useState } from "react";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { ActionButton, Failure, Field, useSubmit } from "@/components/ui";
import { number, time } from "@/lib/format";

type Proposal = {
  proposalId: string; proposer: string; title: string; description?: string; state: string; voteStartMs?: string; voteEndMs?: string;
  forVotes?: string; againstVotes?: string; abstainVotes?: string; quorum?: string; etaMs?: string; executedAtMs?: string; createdAtMs?: string;
  actions?: { parameter?: { name: string; value: string }; objectiveWeights?: Record<string, number> }[];
};
type Parameter = { name: string; value: string; min: string; max: string; meaning: string };

export function Proposals() {
  const { api } = usePlatform();
  const proposals = useResource<{ proposals?: Proposal[] }>("/api/tokenomics/proposals", ["governance"]);
  const parameters = useResource<{ parameters?: Parameter[] }>("/api/tokenomics/parameters", ["governance"]);
  const power = useResource<{ power?: string; votingPower?: string }>("/api/tokenomics/voting-power", ["governance", "ledger"]);
  const [draft, setDraft] = useState({ title: "", description: "", parameter: "", value: "" });
  const { errors, message, busy, submit } = useSubmit();
  const vote = (p: Proposal, support: string) => api.post("/api/tokenomics/vote", { proposalId: p.proposalId, support }).then(proposals.reload);
  return (
    <>
      <h2>Proposals</h2>
      <p className="muted">Your voting power: {number(power.data?.power ?? power.data?.votingPower)}</p>
      <Failure error={proposals.error} />
      {(proposals.data?.proposals ?? []).map((p) => (
        <section key={p.proposalId} className="panel" aria-label={`Proposal ${p.title}`}>
          <h3>#{p.proposalId} {p.title} <span className={`state-${p.state}`}>{p.state}</span></h3>
          <p>{p.description}</p>
          <p className="muted">{(p.actions ?? []).map((a) => (a.parameter ? `set ${a.parameter.name} to ${a.parameter.value}` : `objective weights ${JSON.stringify(a.objectiveWeights)}`)).join("; ")}</p>
          <ol className="muted" aria-label="Timeline">
            <li>proposed by {p.proposer} {time(p.createdAtMs)}</li>
            <li>vote {time(p.voteStartMs)} – {time(p.voteEndMs)}</li>
            {p.etaMs && p.etaMs !== "0" && <li>executable from {time(p.etaMs)}</li>}
            {p.executedAtMs && p.executedAtMs !== "0" && <li>executed {time(p.executedAtMs)}</li>}
          </ol>
          <p>For {number(p.forVotes)} · Against {number(p.againstVotes)} · Abstain {number(p.abstainVotes)} · quorum {number(p.quorum)}</p>
          {p.state === "Active" && (
            <div className="row">
              <ActionButton label="Vote for" run={() => vote(p, "for")} />
              <ActionButton label="Vote against" run={() => vote(p, "against")} />
              <ActionButton label="Abstain" run={() => vote(p, "abstain")} />
            </div>
          )}
          {p.state === "Succeeded" && <ActionButton label="Queue" run={() => api.post(`/api/tokenomics/proposals/${p.proposalId}/queue`, {}).then(proposals.reload)} />}
          {p.state === "Queued" && <ActionButton label="Execute" run={() => api.post(`/api/tokenomics/proposals/${p.proposalId}/execute`, {}).then(proposals.reload)} />}
        </section>
      ))}
      <form
        className="panel"
        aria-label="New proposal"
        onSubmit={async (e) => {
          e.preventDefault();
          const action = { parameter: { name: draft.parameter, value: draft.value } };
          if (!(await submit(() => api.post("/api/tokenomics/proposals", { title: draft.title, description: draft.description, actions: [action] })))) return;
          setDraft({ title: "", description: "", parameter: "", value: "" });
          proposals.reload();
        }}
      >
        <h3>New proposal</h3>
        <div className="form-grid">
          <Field label="Title" name="title" value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.target.value })} error={errors.title} />
          <Field label="Description" name="description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} error={errors.description} />
          <label>
            Parameter
            <select name="parameter" value={draft.parameter} onChange={(e) => setDraft({ ...draft, parameter: e.target.value })}>
              <option value="">choose…</option>
              {(parameters.data?.parameters ?? []).map((p) => <option key={p.name} value={p.name}>{p.name} (now {p.value}; {p.min}–{p.max})</option>)}
            </select>
            {(errors["actions[0].parameter.name"] ?? errors.actions) && <span className="field-error">{errors["actions[0].parameter.name"] ?? errors.actions}</span>}
          </label>
          <Field label="New value" name="value" value={draft.value} onChange={(e) => setDraft({ ...draft, value: e.target.value })} error={errors["actions[0].parameter.value"]} />
          <button type="submit" className="primary" disabled={busy}>Propose</button>
        </div>
        <Failure error={message} />
      </form>
    </>
  );
}
