using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// The ledger's one way of moving money, inside a transaction its caller owns, so that a stake, an unbonding, a reward
/// epoch or a slash writes its own rows and its transfers together or not at all. Also the retry loop every such
/// transaction runs in: serialization failures, deadlocks and a concurrent insert of the same key are tried again
/// from the start.
/// </summary>
public static class LedgerPostings
{
    public const string AccountColumns = "account_id, kind, owner, debits_posted, credits_posted, debits_pending, credits_pending, created_at";
    public const string TransferColumns = """
        transfer_id, requested_by, idempotency_key, payload, debit_account_id, credit_account_id, amount, kind, state, memo, created_at, timeout_at, resolved_at, reserved
        """;
    const int Attempts = 8;

    /// <summary>Runs <paramref name="work"/> in a transaction, committed when it returns, again from the start on a transient conflict.</summary>
    public static async Task<T> InTransactionAsync<T>(this NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation
                                               && attempt < Attempts)
            {
                // Another transaction got there first (the same key at the same moment, say): the next try sees its result.
            }
        }
    }

    /// <summary>
    /// Holds the caller's key until the transaction ends, then answers the transfer first made with it: the same payload
    /// is a replay, another a conflict. A replay racing its original waits for it and answers its result.
    /// </summary>
    public static async Task<TransferRow?> ClaimKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TransferRow transfer, CancellationToken cancellationToken)
    {
        await LockKeyAsync(connection, transaction, transfer.RequestedBy, transfer.IdempotencyKey, cancellationToken);
        var first = await connection.QuerySingleOrDefaultAsync<TransferRow>(transaction.In(
            $"SELECT {TransferColumns} FROM tokenomics.transfers WHERE requested_by = @RequestedBy AND idempotency_key = @IdempotencyKey", transfer, cancellationToken));
        if (first is not null && first.Payload != transfer.Payload) throw new IdempotencyConflictException(transfer.IdempotencyKey, first.TransferId);
        return first;
    }

    /// <summary>Holds one caller's idempotency key until the transaction ends: requests with the same key take turns.</summary>
    public static Task LockKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string requestedBy, string key, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(transaction.In("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key = $"{requestedBy}\u001f{key}" }, cancellationToken));

    /// <summary>
    /// Writes <paramref name="transfer"/> and both its sides: accounts are created on first use, locked in id order,
    /// and the debit is checked against what is available (issuance excepted). The <c>no_overdraft</c> constraint
    /// refuses an overdraft even should this check fail.
    /// </summary>
    public static async Task PostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TransferRow transfer, CancellationToken cancellationToken)
    {
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
            VALUES (@TransferId, @RequestedBy, @IdempotencyKey, @Payload, @DebitAccountId, @CreditAccountId, @Amount, @Kind, @State, @Memo, @CreatedAt, @TimeoutAt, @ResolvedAt, @Reserved)
            """, transfer, cancellationToken));
        var side = transfer.State == TransferStates.Pending ? "pending" : "posted";
        await MoveAsync(connection, transaction, $"debits_{side} = debits_{side} + @amount", transfer.DebitAccountId, transfer.Amount, cancellationToken);
        await MoveAsync(connection, transaction, $"credits_{side} = credits_{side} + @amount", transfer.CreditAccountId, transfer.Amount, cancellationToken);
    }

    public static async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string change, string accountId, long amount, CancellationToken cancellationToken)
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
}
