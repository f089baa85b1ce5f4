using System.Numerics;
using Dapper;
using Grpc.Core;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// The share arithmetic, inside a transaction its caller owns and after it has locked the validators involved (in
/// name order, before any account): bonding buys shares at the validator's current price, unbonding sells them, and
/// each change first pays the delegation the rewards it has earned (F1: shares × the growth of the reward per share),
/// so its start can move to now.
/// </summary>
public static class DelegationBook
{
    public static async Task<ValidatorRow> LockValidatorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string node, CancellationToken cancellationToken) =>
        (await LockValidatorsAsync(connection, transaction, [node], cancellationToken)).SingleOrDefault()
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"node {node} is not a validator: its operator registers it first (POST /api/tokenomics/validators)"));

    public static async Task<IReadOnlyList<ValidatorRow>> LockValidatorsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> nodes,
        CancellationToken cancellationToken) =>
        [.. await connection.QueryAsync<ValidatorRow>(transaction.In(
            $"SELECT {ValidatorRow.Columns} FROM tokenomics.validators WHERE node = ANY(@nodes) ORDER BY node FOR UPDATE", new { nodes = nodes.Distinct().ToArray() }, cancellationToken))];

    public static Task<DelegationRow?> DelegationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string delegator, string node, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<DelegationRow>(transaction.In(
            $"SELECT {DelegationRow.Columns} FROM tokenomics.delegations WHERE delegator = @delegator AND node = @node FOR UPDATE", new { delegator, node }, cancellationToken));

    /// <summary>Pays a delegation what it has earned into its delegator's account and starts it again from now; answers what was paid.</summary>
    public static async Task<long> SettleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ValidatorRow validator, DelegationRow delegation, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var owed = delegation.PendingRewards(validator);
        if (owed > 0)
            await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Claim, SystemAccounts.RewardsPool,
                SystemAccounts.User(delegation.Delegator), owed, $"rewards from {validator.Node}", now), cancellationToken);
        await connection.ExecuteAsync(transaction.In(
            "UPDATE tokenomics.delegations SET reward_per_share_start = @start::numeric, updated_at = @now WHERE delegator = @Delegator AND node = @Node",
            new { start = validator.RewardPerShare, now, delegation.Delegator, delegation.Node }, cancellationToken));
        return owed;
    }

    /// <summary>Adds <paramref name="amount"/> tokens (already in the staking pool) to a delegation; answers the validator as it is now.</summary>
    public static async Task<ValidatorRow> BondAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ValidatorRow validator, string delegator, long amount,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var shares = validator.SharesValue;
        if (validator.Tokens == 0 && !shares.IsZero)
            throw new ConflictException("VALIDATOR_SLASHED_OUT", $"validator {validator.Node} has no tokens left against its shares: it cannot take stake");
        if (await DelegationAsync(connection, transaction, delegator, validator.Node, cancellationToken) is { } existing)
            await SettleAsync(connection, transaction, validator, existing, now, cancellationToken);
        var issued = validator.Tokens == 0 ? amount * FixedPoint.OneShare : FixedPoint.MulDiv(amount, shares, validator.Tokens);
        if (issued.IsZero) throw new ConflictException("AMOUNT_TOO_SMALL", $"{amount} buys no share of {validator.Node} at its price");
        await connection.ExecuteAsync(transaction.In("""
            INSERT INTO tokenomics.delegations (delegator, node, shares, reward_per_share_start, updated_at)
            VALUES (@delegator, @Node, @issued::numeric, @RewardPerShare::numeric, @now)
            ON CONFLICT (delegator, node) DO UPDATE SET shares = tokenomics.delegations.shares + excluded.shares, updated_at = excluded.updated_at
            """, new { delegator, validator.Node, issued = FixedPoint.Format(issued, FixedPoint.ShareScale), validator.RewardPerShare, now }, cancellationToken));
        await connection.ExecuteAsync(transaction.In("INSERT INTO tokenomics.bonds (node, amount, bonded_at) VALUES (@Node, @amount, @now)",
            new { validator.Node, amount, now }, cancellationToken));
        return await WriteValidatorAsync(connection, transaction, validator with
        {
            Tokens = checked(validator.Tokens + amount), Shares = FixedPoint.Format(shares + issued, FixedPoint.ShareScale),
        }, cancellationToken);
    }

    /// <summary>The shares that <paramref name="amount"/> tokens of a delegation are; all of them when what would remain is worth less than a token.</summary>
    public static BigInteger SharesFor(ValidatorRow validator, DelegationRow delegation, long amount)
    {
        var held = delegation.SharesValue;
        var worth = validator.TokensFor(held);
        if (amount > worth) throw new ConflictException("INSUFFICIENT_STAKE", $"{delegation.Delegator}'s stake with {validator.Node} is worth {worth}, less than {amount}");
        var shares = BigInteger.Min(held, (FixedPoint.MulDiv(amount, validator.SharesValue, validator.Tokens)));
        return validator.TokensFor(held - shares) == 0 ? held : shares;
    }

    /// <summary>Takes <paramref name="shares"/> out of a delegation (paying its rewards first); answers the tokens they were worth, now out of the validator's stake.</summary>
    public static async Task<(ValidatorRow Validator, long Tokens)> UnbondAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ValidatorRow validator,
        DelegationRow delegation, BigInteger shares, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await SettleAsync(connection, transaction, validator, delegation, now, cancellationToken);
        var tokens = validator.TokensFor(shares);
        var left = delegation.SharesValue - shares;
        await connection.ExecuteAsync(transaction.In(left.IsZero
                ? "DELETE FROM tokenomics.delegations WHERE delegator = @Delegator AND node = @Node"
                : "UPDATE tokenomics.delegations SET shares = @left::numeric WHERE delegator = @Delegator AND node = @Node",
            new { delegation.Delegator, delegation.Node, left = FixedPoint.Format(left, FixedPoint.ShareScale) }, cancellationToken));
        var updated = await WriteValidatorAsync(connection, transaction, validator with
        {
            Tokens = validator.Tokens - tokens, Shares = FixedPoint.Format(validator.SharesValue - shares, FixedPoint.ShareScale),
        }, cancellationToken);
        return (updated, tokens);
    }

    public static async Task<ValidatorRow> WriteValidatorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ValidatorRow validator, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(transaction.In("""
            UPDATE tokenomics.validators SET tokens = @Tokens, shares = @Shares::numeric, reward_per_share = @RewardPerShare::numeric,
                jailed_until = @JailedUntil, slashed = @Slashed WHERE node = @Node
            """, validator, cancellationToken));
        return validator;
    }
}
