"use client";

import { useState } from "react";
import { usePlatform, useResource, useTokens } from "@/components/PlatformContext";
import { ActionButton, Failure, Field } from "@/components/ui";
import { newKey } from "@/lib/api";
import { amountError } from "@/lib/forms";
import { number, time } from "@/lib/format";
import { Proposals } from "./Proposals";
import { Transfers } from "./Transfers";

type Balance = { accountId?: string; balance?: string; available?: string };
type Validator = { node: string; commissionRate?: string; tokens?: string; delegators?: number; jailed?: boolean };
type Delegation = { node: string; tokens?: string; pendingRewards?: string };
type Unbonding = { unbondingId: string; node: string; balance?: string; completesAtMs?: string };

export default function TokenomicsPage() {
  const { api } = usePlatform();
  const user = useTokens()?.user;
  const stats = useResource<Record<string, string | number | Record<string, boolean>>>("/api/tokenomics/stats", ["ledger", "governance"]);
  const balance = useResource<Balance>("/api/tokenomics/balance", ["ledger"]);
  const validators = useResource<{ validators?: Validator[] }>("/api/tokenomics/validators", ["ledger"]);
  const delegations = useResource<{ delegations?: Delegation[] }>("/api/tokenomics/delegations", ["ledger"]);
  const unbondings = useResource<{ unbondings?: Unbonding[] }>("/api/tokenomics/unbondings", ["ledger"]);
  const rewards = useResource<{ total?: string }>("/api/tokenomics/rewards", ["ledger"]);
  const [stake, setStake] = useState({ node: "", amount: "", key: newKey() });
  const [stakeErrors, setStakeErrors] = useState<Record<string, string>>({});
  const reloadAll = () => [balance, delegations, unbondings, rewards, validators, stats].forEach((r) => r.reload());
  const s = stats.data ?? {};
  return (
    <>
      <h1>Tokenomics</h1>
      <div className="cards">
        <div className="card" aria-label="Your balance"><div className="label">Your balance ({user?.username})</div><div className="figure">{number(balance.data?.balance)}</div><div className="muted">{number(balance.data?.available)} available</div></div>
        <div className="card"><div className="label">Pending rewards</div><div className="figure">{number(rewards.data?.total)}</div>
          <ActionButton label="Claim rewards" run={async () => { await api.post("/api/tokenomics/rewards/claim", {}); reloadAll(); }} /></div>
        <div className="card"><div className="label">Supply</div><div className="figure">{number(s.totalSupply as string)}</div><div className="muted">{number(s.staked as string)} staked, {number(s.unbonding as string)} unbonding</div></div>
        <div className="card"><div className="label">Holders</div><div className="figure">{number(s.holders as number)}</div><div className="muted">{number(s.stakers as number)} stakers</div></div>
      </div>
      <Failure error={balance.error ?? stats.error} />
      <form
        className="panel"
        aria-label="Stake"
        onSubmit={async (e) => {
          e.preventDefault();
          const errors: Record<string, string> = {};
          if (!stake.node) errors.node = "choose a validator";
          const bad = amountError(stake.amount);
          if (bad) errors.amount = bad;
          setStakeErrors(errors);
          if (Object.keys(errors).length) return;
          try {
            await api.post("/api/tokenomics/stake", { node: stake.node, amount: stake.amount, idempotencyKey: stake.key });
            setStake({ node: stake.node, amount: "", key: newKey() });
            reloadAll();
          } catch (err) {
            setStakeErrors({ amount: err instanceof Error ? err.message : String(err) });
          }
        }}
      >
        <h2>Stake</h2>
        <div className="form-grid">
          <label>
            Validator
            <select name="node" value={stake.node} onChange={(e) => setStake({ ...stake, node: e.target.value })}>
              <option value="">choose…</option>
              {(validators.data?.validators ?? []).map((v) => <option key={v.node} value={v.node}>{v.node} ({Number(v.commissionRate ?? 0) * 100} % commission{v.jailed ? ", jailed" : ""})</option>)}
            </select>
            {stakeErrors.node && <span className="field-error">{stakeErrors.node}</span>}
          </label>
          <Field label="Amount" name="amount" inputMode="numeric" value={stake.amount} onChange={(e) => setStake({ ...stake, amount: e.target.value })} error={stakeErrors.amount} />
          <button type="submit" className="primary">Stake</button>
        </div>
      </form>
      <h2>Your stake</h2>
      <div className="table-wrap">
        <table aria-label="Delegations">
          <thead><tr><th>Validator</th><th>Tokens</th><th>Pending rewards</th><th>Actions</th></tr></thead>
          <tbody>
            {(delegations.data?.delegations ?? []).map((d) => (
              <tr key={d.node}>
                <td>{d.node}</td><td>{number(d.tokens)}</td><td>{number(d.pendingRewards)}</td>
                <td><ActionButton label={`Unstake from ${d.node}`} confirm={`Unstake all ${d.tokens} from ${d.node}? They unbond before you can spend them.`}
                  run={async () => { await api.post("/api/tokenomics/unstake", { node: d.node, amount: d.tokens, idempotencyKey: newKey() }); reloadAll(); }} /></td>
              </tr>
            ))}
            {(unbondings.data?.unbondings ?? []).map((u) => (
              <tr key={u.unbondingId}>
                <td>{u.node} (unbonding)</td><td>{number(u.balance)}</td><td>free at {time(u.completesAtMs)}</td>
                <td><ActionButton label="Cancel unbonding" run={async () => { await api.post(`/api/tokenomics/unbondings/${u.unbondingId}/cancel`, {}); reloadAll(); }} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {user && <Transfers account={`user:${user.username}`} onMoved={reloadAll} />}
      <Proposals />
    </>
  );
}
