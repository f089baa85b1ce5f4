using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Rewards;

/// <summary>Reward epochs: fixed windows aligned to the Unix epoch (<c>Tokenomics:Rewards</c>).</summary>
public sealed class RewardOptions
{
    public int EpochSeconds { get; set; } = 3600;
    /// <summary>How long after an epoch ends before it is measured, so the agents' last samples of it have arrived.</summary>
    public int SettleSeconds { get; set; } = 60;
}

/// <summary>
/// Closes each reward epoch once it has ended and settled, in order, on one replica: measures the nodes' work in
/// Telemetry and pays it (<see cref="RewardDistribution"/>). An epoch is never skipped: while Telemetry does not
/// answer, the epoch waits and is closed on a later round; after downtime the missed epochs are closed one by one.
/// The first epoch closed is the one before the service first ran.
/// </summary>
public sealed class EpochCloser(NpgsqlDataSource db, RewardDistribution distribution, ContributedWork work, IOptions<RewardOptions> options, EventPublisher events,
    TimeProvider clock, ILogger<EpochCloser> logger) : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x65706F636873; // "epochs"
    const int EpochsPerRound = 24;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(Math.Clamp(options.Value.EpochSeconds / 10, 1, 30));
    protected override string Description => "Closing reward epochs";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var length = TimeSpan.FromSeconds(options.Value.EpochSeconds);
        var now = Clock.GetUtcNow();
        var next = await distribution.LastClosedAsync(cancellationToken) is { } last ? last + length : Align(now, length) - length;
        for (var round = 0; round < EpochsPerRound && next + length + TimeSpan.FromSeconds(options.Value.SettleSeconds) <= now; round++, next += length)
        {
            IReadOnlyList<NodeWork> measured;
            try
            {
                measured = await work.MeasureAsync(next, next + length, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Logger.LogWarning("Reward epoch {Start:O} not closed yet: Telemetry did not answer ({Reason})", next, ex is Grpc.Core.RpcException rpc ? rpc.Status.Detail : ex.Message);
                return;
            }
            if (!await distribution.CloseEpochAsync(next, next + length, measured, Clock.GetUtcNow(), cancellationToken)) continue;
            Logger.LogInformation("Reward epoch {Start:O} closed: {Nodes} nodes contributed {CpuSeconds:F1} CPU-seconds", next, measured.Count, measured.Sum(w => w.CpuSeconds));
            await events.PublishAsync("ledger", "epoch.closed", new { startMs = next.ToUnixTimeMilliseconds(), endMs = (next + length).ToUnixTimeMilliseconds(), nodes = measured.Count });
        }
    }

    static DateTimeOffset Align(DateTimeOffset at, TimeSpan length) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds() / (long)length.TotalSeconds * (long)length.TotalSeconds);
}
