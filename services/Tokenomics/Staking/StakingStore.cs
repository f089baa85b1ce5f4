using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// Stake, unstake (into an unbonding entry), cancel an unbonding, redelegate, and the unbonding entries that fall
/// due: each one transaction that locks its validators, then its accounts, writes its rows and its transfers together,
/// and answers a replay of its idempotency key with what the first request left.
/// </summary>
public sealed class StakingStore(NpgsqlDataSource db)
{
    public Task<(DelegationRow Delegation, ValidatorRow Validator, bool Replayed)> StakeAsync(string delegator, string node, long amount, string key, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var transfer = TransferRequests.Internal(TransferKinds.Stake, SystemAccounts.User(delegator), SystemAccounts.StakingPool, amount, $"stake to {node}", now,
                SystemAccounts.User(delegator), key);
            var replayed = await LedgerPostings.ClaimKeyAsync(connection, transaction, transfer, cancellationToken) is not null;
            var validator = await DelegationBook.LockValidatorAsync(connection, transaction, node, cancellationToken);
            if (!replayed)
            {
                // Bonding first pays the delegation's rewards (rewards-pool, then the delegator's account), then the
                // stake moves (the account, then staking-pool): every staking operation takes the pools in that order.
                validator = await DelegationBook.BondAsync(connection, transaction, validator, delegator, amount, now, cancellationToken);
                await LedgerPostings.PostAsync(connection, transaction, transfer, cancellationToken);
            }
            var delegation = await DelegationBook.DelegationAsync(connection, transaction, delegator, node, cancellationToken)
                             ?? new DelegationRow { Delegator = delegator, Node = node, RewardPerShareStart = validator.RewardPerShare };
            return (delegation, validator, replayed);
        }, cancellationToken);

    public Task<(UnbondingRow Unbonding, bool Replayed)> UnstakeAsync(string delegator, string node, long amount, string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            // The key stands for the request (node and amount); the transfer it records moves what the shares were worth.
            var request = TransferRequests.Internal(TransferKinds.Unbond, SystemAccounts.StakingPool, SystemAccounts.UnbondingPool, amount, $"unstake from {node}", now,
                SystemAccounts.User(delegator), key);
            if (await LedgerPostings.ClaimKeyAsync(connection, transaction, request, cancellationToken) is { } first)
                return (await UnbondingAsync(connection, transaction, first.TransferId, cancellationToken), true);
            var parameters = await ParameterStore.ReadAsync(connection, transaction, cancellationToken);
            var validator = await DelegationBook.LockValidatorAsync(connection, transaction, node, cancellationToken);
            var delegation = await DelegationBook.DelegationAsync(connection, transaction, delegator, node, cancellationToken)
                             ?? throw new ConflictException("INSUFFICIENT_STAKE", $"{delegator} has no stake with {node}");
            var (_, tokens) = await DelegationBook.UnbondAsync(connection, transaction, validator, delegation,
                DelegationBook.SharesFor(validator, delegation, amount), now, cancellationToken);
            if (tokens == 0) throw new ConflictException("AMOUNT_TOO_SMALL", $"{amount} of {node}'s stake is worth no whole token at its price");
            await LedgerPostings.PostAsync(connection, transaction, request with { Amount = tokens }, cancellationToken);
            var unbonding = new UnbondingRow
            {
                UnbondingId = request.TransferId, Delegator = delegator, Node = node, InitialBalance = tokens, Balance = tokens, State = "unbonding", CreatedAt = now,
                CompletesAt = now + parameters.Seconds(PlatformParameters.UnbondingPeriodSeconds),
            };
            await connection.ExecuteAsync(transaction.In($"""
                INSERT INTO tokenomics.unbondings ({UnbondingRow.Columns})
                VALUES (@UnbondingId, @Delegator, @Node, @InitialBalance, @Balance, @State, @CreatedAt, @CompletesAt, @ResolvedAt)
                """, unbonding, cancellationToken));
            return (unbonding, false);
        }, cancellationToken);

    /// <summary>Bonds what is left of an unbonding entry with its validator again; a second cancel answers the delegation as it is.</summary>
    public Task<(DelegationRow Delegation, ValidatorRow Validator, bool Replayed)?> CancelUnbondingAsync(string delegator, Guid unbondingId, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        db.InTransactionAsync<(DelegationRow, ValidatorRow, bool)?>(async (connection, transaction) =>
        {
            var entry = await connection.QuerySingleOrDefaultAsync<UnbondingRow>(transaction.In(
                $"SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings WHERE unbonding_id = @unbondingId AND delegator = @delegator", new { unbondingId, delegator }, cancellationToken));
            if (entry is null) return null;
            var validator = await DelegationBook.LockValidatorAsync(connection, transaction, entry.Node, cancellationToken);
            entry = await connection.QuerySingleAsync<UnbondingRow>(transaction.In(
                $"SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings WHERE unbonding_id = @unbondingId FOR UPDATE", new { unbondingId }, cancellationToken));
            var replayed = entry.State == "cancelled";
            if (!replayed)
            {
                if (entry.State != "unbonding" || entry.CompletesAt <= now)
                    throw new ConflictException("UNBONDING_STATE", $"unbonding {unbondingId} is {(entry.State == "unbonding" ? "due" : entry.State)}: only one still unbonding can be cancelled");
                if (entry.Balance > 0)
                {
                    validator = await DelegationBook.BondAsync(connection, transaction, validator, delegator, entry.Balance, now, cancellationToken);
                    await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Rebond, SystemAccounts.UnbondingPool, SystemAccounts.StakingPool,
                        entry.Balance, $"unbonding {unbondingId} cancelled: staked to {entry.Node} again", now, key: $"cancel-unbonding-{unbondingId}"), cancellationToken);
                }
                await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.unbondings SET state = 'cancelled', resolved_at = @now WHERE unbonding_id = @unbondingId",
                    new { now, unbondingId }, cancellationToken));
            }
            var delegation = await DelegationBook.DelegationAsync(connection, transaction, delegator, entry.Node, cancellationToken)
                             ?? new DelegationRow { Delegator = delegator, Node = entry.Node, RewardPerShareStart = validator.RewardPerShare };
            return (delegation, validator, replayed);
        }, cancellationToken);

    static Task<UnbondingRow> UnbondingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid unbondingId, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<UnbondingRow>(transaction.In($"SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings WHERE unbonding_id = @unbondingId",
            new { unbondingId }, cancellationToken));

    /// <summary>Entries whose unbonding period is over, oldest first.</summary>
    public Task<IReadOnlyList<Guid>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        db.QueryAsync<Guid>("SELECT unbonding_id FROM tokenomics.unbondings WHERE state = 'unbonding' AND completes_at <= @now ORDER BY completes_at LIMIT @limit",
            new { now, limit }, cancellationToken);

    /// <summary>Pays a due entry's balance to its delegator; answers the entry when this call completed it.</summary>
    public Task<UnbondingRow?> CompleteAsync(Guid unbondingId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var entry = await connection.QuerySingleOrDefaultAsync<UnbondingRow>(transaction.In($"""
                SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings WHERE unbonding_id = @unbondingId AND state = 'unbonding' AND completes_at <= @now FOR UPDATE
                """, new { unbondingId, now }, cancellationToken));
            if (entry is null) return null;
            if (entry.Balance > 0)
                await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Withdraw, SystemAccounts.UnbondingPool,
                    SystemAccounts.User(entry.Delegator), entry.Balance, $"unbonding {unbondingId} from {entry.Node} completed", now, key: $"unbonding-{unbondingId}"), cancellationToken);
            await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.unbondings SET state = 'completed', resolved_at = @now WHERE unbonding_id = @unbondingId",
                new { now, unbondingId }, cancellationToken));
            return entry with { State = "completed", ResolvedAt = now };
        }, cancellationToken);
}
