"use client";

import { useState } from "react";
import { FrontPlot } from "@/components/Charts";
import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure } from "@/components/ui";
import { ago, number, time } from "@/lib/format";
import { atLeast } from "@/lib/session";
import { EditJob } from "./EditJob";
import { SubmitJob } from "./SubmitJob";

type Job = {
  jobId: string; name: string; owner?: string; slaTier?: string; status: string; reason?: string; cpuRequired?: number; memoryRequired?: string;
  estimatedRuntimeSeconds?: string; attempts?: number; exitCode?: number; submittedAtMs?: string; priority?: number; nodeId?: string;
  history?: { status: string; reason?: string; message?: string; nodeId?: string; attempt?: number; atMs?: string }[];
  blockers?: { nodeId: string; nodeName?: string; blockers?: { constraint: string; message?: string }[] }[];
  waitingFor?: string[]; estimatedStartMs?: string; estimateBasis?: string;
};
type Priority = { priority?: number; factors?: { name: string; factor?: number; weight?: number; contribution?: number; explanation?: string }[] };
type Stats = Record<string, unknown> & { queueByTier?: Record<string, number> };
type Decision = { decisionId?: string; madeAtMs?: string; objectives?: string[]; front?: { objectives: number[] }[]; chosen?: { objectives: number[] }; why?: string; solveMs?: number; placedJobs?: number; pendingJobs?: number };

export default function SchedulerPage() {
  const { api } = usePlatform();
  const tokens = useTokens();
  const role = tokens?.user.role;
  const user = tokens?.user.username;
  const jobs = useResource<{ jobs?: Job[] }>("/api/scheduler/jobs?pageSize=100", ["jobs"]);
  const stats = useResource<Stats>("/api/scheduler/stats", ["jobs"]);
  const decision = useResource<Decision>("/api/scheduler/decisions/latest", ["jobs"]);
  const [selected, setSelected] = useState<string>();
  const detail = useResource<Job>(selected ? `/api/scheduler/jobs/${selected}` : null, ["jobs"]);
  const priority = useResource<Priority>(selected ? `/api/scheduler/jobs/${selected}/priority` : null, ["jobs"]);
  const [axes, setAxes] = useState<[number, number]>([0, 1]);
  const objectives = decision.data?.objectives ?? [];
  return (
    <>
      <h1>Scheduler</h1>
      {atLeast(role, "operator") && <SubmitJob onSubmitted={jobs.reload} />}
      <section className="panel" aria-label="Queue">
        <h2>Queue</h2>
        <Failure error={stats.error} />
        {stats.data && (
          <p>
            {Object.entries(stats.data.queueByTier ?? {}).map(([tier, count]) => `${tier}: ${count}`).join(" · ") || "nothing queued"} · running{" "}
            {number(stats.data.runningJobs as number)} · SLA violations {number(stats.data.slaViolations as number)}
          </p>
        )}
      </section>
      <Failure error={jobs.error} />
      <div className="table-wrap">
        <table aria-label="Jobs">
          <thead><tr><th>Job</th><th>Tier</th><th>Status</th><th>Needs</th><th>Priority</th><th>Submitted</th><th>Actions</th></tr></thead>
          <tbody>
            {(jobs.data?.jobs ?? []).map((j) => (
              <tr key={j.jobId} aria-label={`job ${j.name}`}>
                <td><button onClick={() => setSelected(j.jobId)} aria-label={`Details of ${j.name}`}>{j.name}</button> <span className="muted">{j.owner}</span></td>
                <td>{j.slaTier}</td>
                <td className={`state-${j.status?.toUpperCase()}`} data-testid={`job-status-${j.name}`}>{j.status}{j.exitCode !== undefined ? ` (exit ${j.exitCode})` : ""}</td>
                <td>{j.cpuRequired} cores, {j.memoryRequired} MiB</td>
                <td>{number(j.priority, 3)}</td>
                <td>{ago(j.submittedAtMs)}</td>
                <td>
                  {["pending", "scheduled", "running"].includes(j.status) && (atLeast(role, "operator") || j.owner === user) && (
                    <ActionButton label={`Cancel ${j.name}`} confirm={`Cancel ${j.name}?`} run={() => api.delete(`/api/scheduler/jobs/${j.jobId}`)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {detail.data && (
        <section className="panel" aria-label={`Job ${detail.data.name}`}>
          <h2>{detail.data.name}: {detail.data.status}</h2>
          {detail.data.blockers && detail.data.blockers.length > 0 && (
            <>
              <h3>Why it waits</h3>
              <ul>
                {detail.data.blockers.map((b) => (
                  <li key={b.nodeId}><strong>{b.nodeName ?? b.nodeId}</strong>: {(b.blockers ?? []).map((x) => `${x.constraint} (${x.message})`).join("; ")}</li>
                ))}
              </ul>
              {detail.data.waitingFor?.length ? <p>Waiting for: {detail.data.waitingFor.join(", ")}</p> : null}
              <p className="muted">Estimated start: {detail.data.estimatedStartMs && detail.data.estimatedStartMs !== "0" ? time(detail.data.estimatedStartMs) : "none"} {detail.data.estimateBasis}</p>
            </>
          )}
          {detail.data.status === "pending" && atLeast(role, "operator") && (
            <EditJob key={`${detail.data.jobId}-${detail.data.history?.length}`} job={detail.data} onSaved={() => { detail.reload(); jobs.reload(); }} />
          )}
          {priority.data && (
            <>
              <h3>Priority {number(priority.data.priority, 4)}</h3>
              <table aria-label="Priority factors">
                <thead><tr><th>Factor</th><th>Value</th><th>Weight</th><th>Contribution</th><th>Why</th></tr></thead>
                <tbody>
                  {(priority.data.factors ?? []).map((f) => (
                    <tr key={f.name}><td>{f.name}</td><td>{number(f.factor, 3)}</td><td>{number(f.weight, 3)}</td><td>{number(f.contribution, 4)}</td><td className="muted">{f.explanation}</td></tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h3>History</h3>
          <ol>
            {(detail.data.history ?? []).map((h, i) => (
              <li key={i}>{time(h.atMs)}: {h.status} ({h.reason}{h.nodeId ? ` on ${h.nodeId}` : ""}, attempt {h.attempt}) {h.message}</li>
            ))}
          </ol>
        </section>
      )}
      <section className="panel" aria-label="Last placement decision">
        <h2>Last placement decision</h2>
        <Failure error={decision.error} />
        {decision.data?.front && decision.data.front.length > 0 ? (
          <>
            <p>{time(decision.data.madeAtMs)}: {decision.data.placedJobs} of {decision.data.pendingJobs} jobs placed in {number(decision.data.solveMs, 1)} ms. {decision.data.why}</p>
            <div className="row">
              <label>X axis<select value={axes[0]} onChange={(e) => setAxes([Number(e.target.value), axes[1]])}>{objectives.map((o, i) => <option key={o} value={i}>{o}</option>)}</select></label>
              <label>Y axis<select value={axes[1]} onChange={(e) => setAxes([axes[0], Number(e.target.value)])}>{objectives.map((o, i) => <option key={o} value={i}>{o}</option>)}</select></label>
            </div>
            <FrontPlot points={decision.data.front.map((p) => p.objectives)} chosen={decision.data.chosen?.objectives} x={axes[0]} y={axes[1]} />
          </>
        ) : (
          <p className="muted">No decision yet.</p>
        )}
      </section>
    </>
  );
}
