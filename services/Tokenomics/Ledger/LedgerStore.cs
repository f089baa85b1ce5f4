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
    const string AccountColumns = "account_id, kind, owner, debits_posted, credits_posted, debits_pending, credits_pending, created_at";
    const string TransferColumns = """
        transfer_id, requested_by, idempotency_key, payload, debit_account_id, credit_account_id, amount, kind, state, memo, created_at, timeout_at, resolved_at
        """;
    const int Attempts = 8;

    public Task<AccountRow?> AccountAsync(string accountId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<AccountRow>($"SELECT {AccountColumns} FROM tokenomics.accounts WHERE account_id = @accountId", new { accountId }, cancellationToken);

    /// <summary>Applies <paramref name="transfer"/>, or answers the first result of its key; the flag says which.</summary>
    public async Task<(TransferRow Transfer, bool Replayed)> ApplyAsync(TransferRow transfer, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ApplyOnceAsync(transfer, cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation
                                               && attempt < Attempts)
            {
                // Another transaction got there first (the same key at the same moment, say): the next try sees its result.
            }
        }
    }

    async Task<(TransferRow, bool)> ApplyOnceAsync(TransferRow transfer, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One request per key at a time: a replay racing its original waits for it and answers its result, rather than
        // being judged against the balance the original left.
        await connection.ExecuteAsync(transaction.In("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))",
            new { key = $"{transfer.RequestedBy}\u001f{transfer.IdempotencyKey}" }, cancellationToken));
        if (await ExistingAsync(connection, transaction, transfer, cancellationToken) is { } first) return (first, true);
        foreach (var id in new[] { transfer.DebitAccountId, transfer.CreditAccountId }.Where(id => !SystemAccounts.All.Contains(id)))
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO tokenomics.accounts (account_id, kind, owner, created_at) VALUES (@id, @kind, @owner, @at) ON CONFLICT (account_id) DO NOTHING
                """, new { id, kind = id[..id.IndexOf(':')], owner = id[(id.IndexOf(':') + 1)..], at = transfer.CreatedAt }, cancellationToken));
        var locked = (await connection.QueryAsync<AccountRow>(transaction.In(
            $"SELECT {AccountColumns} FROM tokenomics.accounts WHERE account_id = ANY(@ids) ORDER BY account_id FOR UPDATE",
            new { ids = new[] { transfer.DebitAccountId, transfer.CreditAccountId } }, cancellationToken))).ToDictionary(a => a.AccountId);
        var debit = locked[transfer.DebitAccountId];
        if (debit.Kind != SystemAccounts.Issuance && debit.Available < transfer.Amount)
            throw new InsufficientFundsException(debit.AccountId, debit.Available, transfer.Amount);
        await connection.ExecuteAsync(transaction.In($"""
            INSERT INTO tokenomics.transfers ({TransferColumns})
            VALUES (@TransferId, @RequestedBy, @IdempotencyKey, @Payload, @DebitAccountId, @CreditAccountId, @Amount, @Kind, @State, @Memo, @CreatedAt, @TimeoutAt, @ResolvedAt)
            """, transfer, cancellationToken));
        var side = transfer.State == TransferStates.Pending ? "pending" : "posted";
        await MoveAsync(connection, transaction, $"debits_{side} = debits_{side} + @amount", transfer.DebitAccountId, transfer.Amount, cancellationToken);
        await MoveAsync(connection, transaction, $"credits_{side} = credits_{side} + @amount", transfer.CreditAccountId, transfer.Amount, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (transfer, false);
    }

    /// <summary>The first transfer made with this caller's key: the same payload is a replay, another a conflict.</summary>
    static async Task<TransferRow?> ExistingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TransferRow transfer, CancellationToken cancellationToken)
    {
        var first = await connection.QuerySingleOrDefaultAsync<TransferRow>(transaction.In(
            $"SELECT {TransferColumns} FROM tokenomics.transfers WHERE requested_by = @RequestedBy AND idempotency_key = @IdempotencyKey", transfer, cancellationToken));
        if (first is not null && first.Payload != transfer.Payload) throw new IdempotencyConflictException(transfer.IdempotencyKey, first.TransferId);
        return first;
    }

    static async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string change, string accountId, long amount, CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(transaction.In($"UPDATE tokenomics.accounts SET {change} WHERE account_id = @accountId", new { accountId, amount }, cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.NumericValueOutOfRange)
        {
            throw new ConflictException("AMOUNT_OVERFLOW", $"account {accountId} cannot hold more: its totals would pass 2^63");
        }
    }

    /// <summary>
    /// Posts or voids a pending transfer under its row lock (and its accounts', in order); the same resolution again
    /// answers it as it is. <paramref name="authorize"/> sees the transfer first and throws when the caller may not.
    /// </summary>
    public async Task<(TransferRow Transfer, bool Replayed)?> ResolveAsync(Guid transferId, bool post, Action<TransferRow> authorize, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ResolveOnceAsync(transferId, post, authorize, now, cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected && attempt < Attempts)
            {
            }
        }
    }

    async Task<(TransferRow, bool)?> ResolveOnceAsync(Guid transferId, bool post, Action<TransferRow> authorize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
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
        await MoveAsync(connection, transaction, post ? "debits_pending = debits_pending - @amount, debits_posted = debits_posted + @amount" : "debits_pending = debits_pending - @amount",
            transfer.DebitAccountId, transfer.Amount, cancellationToken);
        await MoveAsync(connection, transaction, post ? "credits_pending = credits_pending - @amount, credits_posted = credits_posted + @amount" : "credits_pending = credits_pending - @amount",
            transfer.CreditAccountId, transfer.Amount, cancellationToken);
        var resolved = transfer with { State = wanted, ResolvedAt = now };
        await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.transfers SET state = @State, resolved_at = @ResolvedAt WHERE transfer_id = @TransferId", resolved, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
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
                count(*) FILTER (WHERE kind <> 'issuance' AND debits_posted + debits_pending > credits_posted)::int AS negative_accounts
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
}
