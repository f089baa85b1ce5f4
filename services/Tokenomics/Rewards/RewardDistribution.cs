using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;
using Platform.Tokenomics.Staking;

namespace Platform.Tokenomics.Rewards;

/// <summary>A node's measured contribution in one epoch.</summary>
public sealed record NodeWork(string Node, double CpuSeconds, double MemoryGibHours, double RelayGib = 0);

/// <summary>
/// Closes a reward epoch, once: each node's work is priced at the current reward rates and minted. The validator's
/// commission goes to its operator's account; the rest to the rewards pool, raising the validator's reward per share
/// (F1: a delegation is owed its shares × the rise since its start, so neither this nor a claim loops over anyone).
/// A node nobody stakes to pays its operator the whole reward; a jailed validator earns nothing.
/// </summary>
public sealed class RewardDistribution(NpgsqlDataSource db)
{
    /// <summary>Answers false when the epoch was closed before (by another replica, say): nothing is paid twice.</summary>
    public Task<bool> CloseEpochAsync(DateTimeOffset start, DateTimeOffset end, IReadOnlyList<NodeWork> work, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var first = await connection.ExecuteAsync(transaction.In("""
                INSERT INTO tokenomics.epochs_closed (epoch_start, epoch_end, closed_at, nodes, minted) VALUES (@start, @end, @now, 0, 0) ON CONFLICT DO NOTHING
                """, new { start, end, now }, cancellationToken));
            if (first == 0) return false;
            var parameters = await ParameterStore.ReadAsync(connection, transaction, cancellationToken);
            var validators = (await DelegationBook.LockValidatorsAsync(connection, transaction, work.Select(w => w.Node), cancellationToken)).ToDictionary(v => v.Node);
            long minted = 0;
            foreach (var node in work.OrderBy(w => w.Node, StringComparer.Ordinal))
            {
                var reward = (long)Math.Floor((decimal)node.CpuSeconds * parameters[PlatformParameters.RewardPerCpuSecond]
                                              + (decimal)node.MemoryGibHours * parameters[PlatformParameters.RewardPerMemoryGibHour]
                                              + (decimal)node.RelayGib * parameters[PlatformParameters.RewardPerRelayGib]);
                long commission = reward, delegatorsShare = 0;
                if (validators.TryGetValue(node.Node, out var validator))
                {
                    if (validator.IsJailed) commission = reward = 0;
                    else if (!validator.SharesValue.IsZero && validator.Tokens > 0)
                    {
                        commission = (long)Math.Floor(reward * validator.CommissionRate);
                        delegatorsShare = reward - commission;
                        var rise = FixedPoint.MulDiv(delegatorsShare, FixedPoint.OneReward * FixedPoint.OneShare, validator.SharesValue);
                        await DelegationBook.WriteValidatorAsync(connection, transaction, validator with
                        {
                            RewardPerShare = FixedPoint.Format(validator.RewardPerShareValue + rise, FixedPoint.RewardScale),
                        }, cancellationToken);
                    }
                }
                var memo = $"epoch {start:O}: {node.CpuSeconds:F1} CPU-s, {node.MemoryGibHours:F3} GiB-h, {node.RelayGib:F3} GiB relayed on {node.Node}";
                if (commission > 0)
                    await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Commission, SystemAccounts.Issuance,
                        SystemAccounts.Operator(node.Node), commission, memo, now), cancellationToken);
                if (delegatorsShare > 0)
                    await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Reward, SystemAccounts.Issuance,
                        SystemAccounts.RewardsPool, delegatorsShare, memo, now), cancellationToken);
                await connection.ExecuteAsync(transaction.In("""
                    INSERT INTO tokenomics.reward_epochs (epoch_start, epoch_end, node, cpu_seconds, memory_gib_hours, relay_gib, reward, commission, delegators_share)
                    VALUES (@start, @end, @Node, @CpuSeconds, @MemoryGibHours, @RelayGib, @reward, @commission, @delegatorsShare)
                    """, new { start, end, node.Node, node.CpuSeconds, node.MemoryGibHours, node.RelayGib, reward, commission, delegatorsShare }, cancellationToken));
                minted += reward;
            }
            await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.epochs_closed SET nodes = @nodes, minted = @minted WHERE epoch_start = @start",
                new { nodes = work.Count, minted, start }, cancellationToken));
            return true;
        }, cancellationToken);

    public Task<DateTimeOffset?> LastClosedAsync(CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<DateTimeOffset?>("SELECT max(epoch_start) FROM tokenomics.epochs_closed", null, cancellationToken);

    public Task<IReadOnlyList<EpochRow>> RecentAsync(int limit, CancellationToken cancellationToken) =>
        db.QueryAsync<EpochRow>("""
            SELECT c.epoch_start, c.epoch_end, r.node, r.cpu_seconds, r.memory_gib_hours, r.relay_gib, r.reward, r.commission, r.delegators_share
            FROM (SELECT * FROM tokenomics.epochs_closed ORDER BY epoch_start DESC LIMIT @limit) c
            LEFT JOIN tokenomics.reward_epochs r ON r.epoch_start = c.epoch_start
            ORDER BY c.epoch_start DESC, r.node
            """, new { limit }, cancellationToken);
}

public sealed record EpochRow
{
    public DateTimeOffset EpochStart { get; init; }
    public DateTimeOffset EpochEnd { get; init; }
    public string? Node { get; init; }
    public double CpuSeconds { get; init; }
    public double MemoryGibHours { get; init; }
    public double RelayGib { get; init; }
    public long Reward { get; init; }
    public long Commission { get; init; }
    public long DelegatorsShare { get; init; }
}
