"use client";

import { useState } from "react";
import { usePlatform, useResource } from "@/components/PlatformContext";
import { Failure, Field, useSubmit } from "@/components/ui";
import { newKey } from "@/lib/api";
import { amountError } from "@/lib/forms";
import { number, time } from "@/lib/format";

type Transfer = { transferId: string; debitAccountId: string; creditAccountId: string; amount: string; kind: string; state: string; memo?: string; createdAtMs?: string };

/** The caller's transfers, newest first, and a transfer to another user (one idempotency key per filled-in form). */
export function Transfers({ account, onMoved }: { account: string; onMoved: () => void }) {
  const { api } = usePlatform();
  const history = useResource<{ transfers?: Transfer[] }>(`/api/tokenomics/transfers?accountId=${encodeURIComponent(account)}&pageSize=50`, ["ledger"]);
  const [draft, setDraft] = useState({ to: "", amount: "", memo: "", key: newKey() });
  const { errors, setErrors, message, busy, submit } = useSubmit();
  return (
    <>
      <form
        className="panel"
        aria-label="Send tokens"
        onSubmit={async (e) => {
          e.preventDefault();
          const bad = amountError(draft.amount);
          if (!draft.to || bad) {
            setErrors({ ...(draft.to ? {} : { credit_account_id: "whom to pay: a user's name" }), ...(bad ? { amount: bad } : {}) });
            return;
          }
          const body = { idempotencyKey: draft.key, debitAccountId: account, creditAccountId: `user:${draft.to}`, amount: draft.amount, memo: draft.memo };
          if (!(await submit(() => api.post("/api/tokenomics/transfers", body)))) return;
          setDraft({ to: "", amount: "", memo: "", key: newKey() });
          history.reload();
          onMoved();
        }}
      >
        <h2>Send tokens</h2>
        <div className="form-grid">
          <Field label="To user" name="to" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} error={errors.credit_account_id} />
          <Field label="Amount to send" name="amount" inputMode="numeric" value={draft.amount} onChange={(e) => setDraft({ ...draft, amount: e.target.value })} error={errors.amount} />
          <Field label="Memo" name="memo" value={draft.memo} onChange={(e) => setDraft({ ...draft, memo: e.target.value })} error={errors.memo} />
          <button type="submit" className="primary" disabled={busy}>Send</button>
        </div>
        <Failure error={message} />
      </form>
      <h2>Transfers</h2>
      <Failure error={history.error} />
      <div className="table-wrap">
        <table aria-label="Transfers">
          <thead><tr><th>When</th><th>Kind</th><th>From</th><th>To</th><th>Amount</th><th>State</th><th>Memo</th></tr></thead>
          <tbody>
            {(history.data?.transfers ?? []).map((t) => (
              <tr key={t.transferId}>
                <td>{time(t.createdAtMs)}</td><td>{t.kind}</td><td>{t.debitAccountId}</td><td>{t.creditAccountId}</td>
                <td>{t.debitAccountId === account ? "−" : "+"}{number(t.amount)}</td><td>{t.state}</td><td>{t.memo}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
