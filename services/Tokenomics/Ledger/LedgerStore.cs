using Grpc.Core;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// <c>tokenomics.accounts</c> and <c>tokenomics.transfers</c>. A transfer is one transaction: its idempotency key is
/// looked up first (a replay answers the first result), both accounts are locked in a fixed order (by id, so two
/// transfers between the same accounts never deadlock), the debit is checked against what is available, and the
/// transfer and both sides are written together. Serialization failures, deadlocks and a concurrent request with the
/// same key are retried; the <c>no_overdraft</c> constraint refuses an overdraft even should the check above it fail.
/// </summary>
public sealed class LedgerStore(NpgsqlDataSource db)
{
    const string AccountColumns = LedgerPostings.AccountColumns;
    const string TransferColumns = LedgerPostings.TransferColumns;

    public Task<AccountRow?> AccountAsync(string accountId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<AccountRow>($"SELECT {AccountColumns} FROM tokenomics.accounts WHERE account_id = @accountId", new { accountId }, cancellationToken);

    /// <summary>Applies <paramref name="transfer"/>, or answers the first result of its key; the flag says which.</summary>
    public Task<(TransferRow Transfer, bool Replayed)> ApplyAsync(TransferRow transfer, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            if (await LedgerPostings.ClaimKeyAsync(connection, transaction, transfer, cancellationToken) is { } first) return (first, true);
            await LedgerPostings.PostAsync(connection, transaction, transfer, cancellationToken);
            return (transfer, false);
        }, cancellationToken);

    /// <summary>
    /// Posts or voids a pending transfer under its row lock (and its accounts', in order); the same resolution again
    /// answers it as it is. <paramref name="authorize"/> sees the transfer first and throws when the caller may not.
    /// </summary>
    public Task<(TransferRow Transfer, bool Replayed)?> ResolveAsync(Guid transferId, bool post, Action<TransferRow> authorize, DateTimeOffset now,
        CancellationToken cancellationToken, long amount = 0) =>
        db.InTransactionAsync((connection, transaction) => ResolveWithinAsync(connection, transaction, transferId, post, amount, authorize, now, cancellationToken), cancellationToken);

    static async Task<(TransferRow Transfer, bool Replayed)?> ResolveWithinAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid transferId, bool post,
        long amount, Action<TransferRow> authorize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var transfer = await connection.QuerySingleOrDefaultAsync<TransferRow>(transaction.In(
            $"SELECT {TransferColumns} FROM tokenomics.transfers WHERE transfer_id = @transferId FOR UPDATE", new { transferId }, cancellationToken));
        if (transfer is null) return null;
        authorize(transfer);
        var wanted = post ? TransferStates.Posted : TransferStates.Voided;
        if (transfer.State == wanted) return (transfer, true);
        if (transfer.State != TransferStates.Pending) throw new TransferStateException(transferId, transfer.State, wanted);
        // Past its timeout a reservation can only lapse: the sweeper voids it.
        if (post && transfer.TimeoutAt <= now) throw new TransferStateException(transferId, "expired", wanted);
        await connection.ExecuteAsync(transaction.In(
            "SELECT 1 FROM tokenomics.accounts WHERE account_id = ANY(@ids) ORDER BY account_id FOR UPDATE",
            new { ids = new[] { transfer.DebitAccountId, transfer.CreditAccountId } }, cancellationToken));
        if (amount > transfer.Amount)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"amount: {amount} is more than the {transfer.Amount} transfer {transferId} reserved"));
        var posted = post ? amount == 0 ? transfer.Amount : amount : 0;
        await LedgerPostings.MoveAsync(connection, transaction, "debits_pending = debits_pending - @amount", transfer.DebitAccountId, transfer.Amount, cancellationToken);
        await LedgerPostings.MoveAsync(connection, transaction, "credits_pending = credits_pending - @amount", transfer.CreditAccountId, transfer.Amount, cancellationToken);
        if (posted > 0)
        {
            await LedgerPostings.MoveAsync(connection, transaction, "debits_posted = debits_posted + @amount", transfer.DebitAccountId, posted, cancellationToken);
            await LedgerPostings.MoveAsync(connection, transaction, "credits_posted = credits_posted + @amount", transfer.CreditAccountId, posted, cancellationToken);
        }
        var resolved = transfer with { State = wanted, ResolvedAt = now, Amount = post ? posted : transfer.Amount, Reserved = post && posted < transfer.Amount ? transfer.Amount : null };
        await connection.ExecuteAsync(transaction.In(
            "UPDATE tokenomics.transfers SET state = @State, resolved_at = @ResolvedAt, amount = @Amount, reserved = @Reserved WHERE transfer_id = @TransferId", resolved, cancellationToken));
        return (resolved, false);
    }

    /// <summary>Pending transfers whose timeout has passed, oldest first.</summary>
    public Task<IReadOnlyList<Guid>> ExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        db.QueryAsync<Guid>("SELECT transfer_id FROM tokenomics.transfers WHERE state = 'pending' AND timeout_at <= @now ORDER BY timeout_at LIMIT @limit",
            new { now, limit }, cancellationToken);

    /// <summary>An account's transfers, newest first, after the previous page's last.</summary>
    public Task<IReadOnlyList<TransferRow>> ListAsync(string accountId, (DateTimeOffset At, Guid Id)? after, int limit, CancellationToken cancellationToken) =>
        db.QueryAsync<TransferRow>($"""
            SELECT {TransferColumns} FROM tokenomics.transfers
            WHERE (debit_account_id = @accountId OR credit_account_id = @accountId) AND (@afterAt IS NULL OR (created_at, transfer_id) < (@afterAt, @afterId))
            ORDER BY created_at DESC, transfer_id DESC LIMIT @limit
            """, new { accountId, afterAt = after?.At, afterId = after?.Id ?? Guid.Empty, limit }, cancellationToken);

    public Task<LedgerTotals?> TotalsAsync(CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<LedgerTotals>("""
            SELECT
                sum(debits_posted) FILTER (WHERE kind = 'issuance')::bigint AS minted,
                sum(credits_posted) FILTER (WHERE kind = 'issuance')::bigint AS burned,
                coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'treasury'), 0)::bigint AS treasury,
                coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'staking-pool'), 0)::bigint AS staked,
                count(*)::int AS accounts,
                count(*) FILTER (WHERE kind IN ('user', 'operator') AND credits_posted > debits_posted)::int AS holders,
                sum(debits_posted)::numeric AS total_debits, sum(credits_posted)::numeric AS total_credits,
                sum(debits_pending)::numeric AS pending_debits, sum(credits_pending)::numeric AS pending_credits,
                coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind <> 'issuance'), 0)::numeric AS balances,
                count(*) FILTER (WHERE kind <> 'issuance' AND debits_posted + debits_pending > credits_posted)::int AS negative_accounts,
                coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'unbonding-pool'), 0)::bigint AS unbonding_pool,
                coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'rewards-pool'), 0)::bigint AS rewards_pool,
                (SELECT coalesce(sum(tokens), 0) FROM tokenomics.validators)::bigint AS bonded,
                (SELECT coalesce(sum(balance), 0) FROM tokenomics.unbondings WHERE state = 'unbonding')::bigint AS unbonding,
                (SELECT count(DISTINCT delegator) FROM tokenomics.delegations)::int AS stakers,
                (SELECT coalesce(sum(floor(d.shares * (v.reward_per_share - d.reward_per_share_start))), 0)
                 FROM tokenomics.delegations d JOIN tokenomics.validators v USING (node))::numeric AS rewards_owed
            FROM tokenomics.accounts
            """, null, cancellationToken);
}

/// <summary>The ledger summed: what the stats show and the invariants are checked against.</summary>
public sealed record LedgerTotals
{
    public long Minted { get; init; }
    public long Burned { get; init; }
    public long Treasury { get; init; }
    public long Staked { get; init; }
    public int Accounts { get; init; }
    public int Holders { get; init; }
    public decimal TotalDebits { get; init; }
    public decimal TotalCredits { get; init; }
    public decimal PendingDebits { get; init; }
    public decimal PendingCredits { get; init; }
    public decimal Balances { get; init; }
    public int NegativeAccounts { get; init; }
    public long UnbondingPool { get; init; }
    public long RewardsPool { get; init; }
    /// <summary>The validators' tokens: what the staking pool must hold.</summary>
    public long Bonded { get; init; }
    /// <summary>What unbonding entries still owe: what the unbonding pool must hold.</summary>
    public long Unbonding { get; init; }
    public int Stakers { get; init; }
    /// <summary>What delegators may claim now: the rewards pool must hold at least this.</summary>
    public decimal RewardsOwed { get; init; }
}
