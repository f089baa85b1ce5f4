using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// Many transfers in one transaction and a handful of statements, TigerBeetle's way: every key of the batch is locked
/// (in hash order) and looked up at once, every account involved is created and locked at once (in id order), then
/// each transfer is judged in order against the balances as the ones before it left them — applied, answered as a
/// replay, or refused on its own — and what was applied is written with one insert and one update. The result is the
/// same as applying the transfers one by one; the <c>no_overdraft</c> constraint still stands under it.
/// </summary>
public sealed class TransferBatches(NpgsqlDataSource db)
{
    /// <summary>One outcome per transfer, in order: applied, replayed (the first result of its key) or refused (a domain error).</summary>
    public sealed record Outcome(TransferRow? Transfer, bool Replayed, Exception? Refusal);

    public Task<IReadOnlyList<Outcome>> ApplyAsync(IReadOnlyList<TransferRow> transfers, CancellationToken cancellationToken) =>
        db.InTransactionAsync<IReadOnlyList<Outcome>>(async (connection, transaction) =>
        {
            var keys = transfers.Select(t => $"{t.RequestedBy}\u001f{t.IdempotencyKey}").Distinct().ToArray();
            await connection.ExecuteAsync(transaction.In(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(@keys) k ORDER BY 1) x", new { keys }, cancellationToken));
            var earlier = (await connection.QueryAsync<TransferRow>(transaction.In($"""
                SELECT {LedgerPostings.TransferColumns} FROM tokenomics.transfers
                WHERE (requested_by, idempotency_key) IN (SELECT * FROM unnest(@requesters, @keys))
                """, new { requesters = transfers.Select(t => t.RequestedBy).ToArray(), keys = transfers.Select(t => t.IdempotencyKey).ToArray() }, cancellationToken)))
                .ToDictionary(t => (t.RequestedBy, t.IdempotencyKey));

            var ids = transfers.SelectMany(t => new[] { t.DebitAccountId, t.CreditAccountId }).Distinct().ToArray();
            var personal = ids.Where(id => !SystemAccounts.All.Contains(id)).ToArray();
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO tokenomics.accounts (account_id, kind, owner, created_at)
                SELECT id, split_part(id, ':', 1), substr(id, strpos(id, ':') + 1), @now FROM unnest(@personal) id
                ON CONFLICT (account_id) DO NOTHING
                """, new { personal, now = transfers[0].CreatedAt }, cancellationToken));
            var accounts = (await connection.QueryAsync<AccountRow>(transaction.In(
                $"SELECT {LedgerPostings.AccountColumns} FROM tokenomics.accounts WHERE account_id = ANY(@ids) ORDER BY account_id FOR UPDATE", new { ids }, cancellationToken)))
                .ToDictionary(a => a.AccountId);

            var outcomes = new List<Outcome>();
            var applied = new List<TransferRow>();
            foreach (var transfer in transfers)
            {
                if (earlier.TryGetValue((transfer.RequestedBy, transfer.IdempotencyKey), out var first))
                {
                    outcomes.Add(first.Payload == transfer.Payload
                        ? new Outcome(first, true, null) : new Outcome(null, false, new IdempotencyConflictException(transfer.IdempotencyKey, first.TransferId)));
                    continue;
                }
                var debit = accounts[transfer.DebitAccountId];
                var credit = accounts[transfer.CreditAccountId];
                if (debit.Kind != SystemAccounts.Issuance && debit.Available < transfer.Amount)
                {
                    outcomes.Add(new Outcome(null, false, new InsufficientFundsException(debit.AccountId, debit.Available, transfer.Amount)));
                    continue;
                }
                var pending = transfer.State == TransferStates.Pending;
                try
                {
                    accounts[debit.AccountId] = pending ? debit with { DebitsPending = checked(debit.DebitsPending + transfer.Amount) }
                        : debit with { DebitsPosted = checked(debit.DebitsPosted + transfer.Amount) };
                    credit = accounts[credit.AccountId];
                    accounts[credit.AccountId] = pending ? credit with { CreditsPending = checked(credit.CreditsPending + transfer.Amount) }
                        : credit with { CreditsPosted = checked(credit.CreditsPosted + transfer.Amount) };
                }
                catch (OverflowException)
                {
                    accounts[debit.AccountId] = debit;
                    outcomes.Add(new Outcome(null, false, new ServiceDefaults.Grpc.ConflictException("AMOUNT_OVERFLOW", $"the accounts of transfer '{transfer.IdempotencyKey}' cannot hold more")));
                    continue;
                }
                earlier[(transfer.RequestedBy, transfer.IdempotencyKey)] = transfer;   // a later copy of it in the batch is a replay
                applied.Add(transfer);
                outcomes.Add(new Outcome(transfer, false, null));
            }

            if (applied.Count > 0)
            {
                await connection.ExecuteAsync(transaction.In($"""
                    INSERT INTO tokenomics.transfers ({LedgerPostings.TransferColumns})
                    SELECT * FROM unnest(@ids, @requesters, @keys, @payloads, @debits, @credits, @amounts, @kinds, @states, @memos, @created, @timeouts,
                                         @resolved::timestamptz[], @reserved::bigint[])
                    """, new
                {
                    ids = applied.Select(t => t.TransferId).ToArray(), requesters = applied.Select(t => t.RequestedBy).ToArray(),
                    keys = applied.Select(t => t.IdempotencyKey).ToArray(), payloads = applied.Select(t => t.Payload).ToArray(),
                    debits = applied.Select(t => t.DebitAccountId).ToArray(), credits = applied.Select(t => t.CreditAccountId).ToArray(),
                    amounts = applied.Select(t => t.Amount).ToArray(), kinds = applied.Select(t => t.Kind).ToArray(), states = applied.Select(t => t.State).ToArray(),
                    memos = applied.Select(t => t.Memo).ToArray(), created = applied.Select(t => t.CreatedAt).ToArray(),
                    timeouts = applied.Select(t => t.TimeoutAt).ToArray(), resolved = new DateTimeOffset?[applied.Count], reserved = new long?[applied.Count],
                }, cancellationToken));
                var changed = accounts.Values.ToArray();
                await connection.ExecuteAsync(transaction.In("""
                    UPDATE tokenomics.accounts a
                    SET debits_posted = v.dp, credits_posted = v.cp, debits_pending = v.dpen, credits_pending = v.cpen
                    FROM unnest(@ids, @dp, @cp, @dpen, @cpen) AS v(id, dp, cp, dpen, cpen)
                    WHERE a.account_id = v.id
                    """, new
                {
                    ids = changed.Select(a => a.AccountId).ToArray(), dp = changed.Select(a => a.DebitsPosted).ToArray(), cp = changed.Select(a => a.CreditsPosted).ToArray(),
                    dpen = changed.Select(a => a.DebitsPending).ToArray(), cpen = changed.Select(a => a.CreditsPending).ToArray(),
                }, cancellationToken));
            }
            return outcomes;
        }, cancellationToken);
}
