using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Staking;

/// <summary>Pays out unbonding entries whose period is over, every second on one replica.</summary>
public sealed class UnbondingCompletion(NpgsqlDataSource db, StakingStore store, EventPublisher events, TimeProvider clock, ILogger<UnbondingCompletion> logger)
    : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x756E626F6E64; // "unbond"

    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);
    protected override string Description => "Completing unbonding entries";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.DueAsync(Clock.GetUtcNow(), 500, cancellationToken))
        {
            UnbondingRow? completed;
            try
            {
                completed = await store.CompleteAsync(id, Clock.GetUtcNow(), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Logger.LogWarning(ex, "Unbonding {UnbondingId} not completed this round", id);
                continue;
            }
            if (completed is null) continue; // cancelled at the last moment
            Logger.LogInformation("Unbonding {UnbondingId} of {Delegator} from {Node} completed: {Balance} paid", id, completed.Delegator, completed.Node, completed.Balance);
            await events.PublishAsync("ledger", "unbonding.completed", completed.ToMessage());
        }
    }
}
