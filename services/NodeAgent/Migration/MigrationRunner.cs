using System.Diagnostics;
using Grpc.Core;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;

namespace Platform.NodeAgent.Migration;

/// <summary>Compute ended the migration (aborted, failed) while it ran: stop sending.</summary>
public sealed class MigrationEndedException(string phase) : Exception($"Compute says the migration is {phase}")
{
    public string Phase { get; } = phase;
}

/// <summary>
/// The source's side of a migration. Warm and live: copy the workload's folder to the target while it runs, round
/// after round, until a round sends little (or stops shrinking, or five rounds passed). Then — cold from the start —
/// stop the workload (live: checkpoint it with CRIU into its folder), send what changed and commit it on the target,
/// and tell Compute to hand the workload over; the target starts it (live: restores it from the checkpoint). Every step
/// is reported to Compute (progress at most twice a second), whose answer may end the run; a failure is reported with
/// its reason and the target's staging is discarded. Running it again resumes: blocks the target holds are not resent.
/// </summary>
public sealed class MigrationRunner(
    WorkloadAssignments.WorkloadAssignmentsClient compute, MigrationPeers peers, NodeIdentity identity, TimeProvider clock, ILogger<MigrationRunner> logger)
{
    public const int MaxPrecopyRounds = 5;
    /// <summary>A pre-copy round that sent no more than this has converged: the final copy will be short.</summary>
    public const long ConvergedBytes = 1 << 20;
    static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The agent's own bookkeeping in a workload's folder stays behind: the target writes its own.</summary>
    public static bool Travels(string relativePath) => relativePath is not ("workload.json" or "workload.json.tmp" or "exit_code" or "exit_code.tmp");

    sealed class Tally
    {
        public long Total, Sent, Saved, StoppedAtMs;
        public int Rounds;
        public TransferResult? Current;

        public void Add(TransferResult round, ILogger logger, string migrationId)
        {
            logger.LogInformation("Migration {MigrationId} round {Round}: {BytesSent} bytes sent for {BlocksSent} blocks, {BlocksSkipped} already there, in {Elapsed} ms",
                migrationId, Rounds + 1, round.BytesSent, round.BlocksSent, round.BlocksSkipped, (long)round.Elapsed.TotalMilliseconds);
            (Total, Sent, Saved, Current) = (round.BytesTotal, Sent + round.BytesSent, Saved + Math.Max(0, round.BytesSaved), null);
            Rounds++;
        }
    }

    /// <summary>Runs the migration of the workload in <paramref name="folder"/>; <paramref name="stop"/> stops (or checkpoints) it and says when.</summary>
    public async Task RunAsync(string folder, MigrationOrder order, Func<CancellationToken, Task<DateTimeOffset>> stop, CancellationToken cancellationToken)
    {
        var migrationId = Guid.Parse(order.MigrationId);
        var receiver = peers.Receiver(order.TargetAgentUrl, order.TargetNodeName, migrationId);
        var tally = new Tally();
        var options = new TransferOptions(order.CompressionLevel, order.BandwidthLimitBytesPerSecond, Include: Travels);
        using var reporter = new PeriodicProgress(this, order, tally);
        try
        {
            await ResumeCountsAsync(order, tally, cancellationToken);
            // The target must answer before anything happens to the workload: a cold migration stops it first.
            await receiver.MissingAsync([], cancellationToken);
            if (order.Type is "warm" or "live")
            {
                var previous = long.MaxValue;
                while (tally.Rounds < MaxPrecopyRounds)
                {
                    var round = await FolderTransfer.SendAsync(folder, receiver, options with { Final = false }, reporter, cancellationToken);
                    tally.Add(round, logger, order.MigrationId);
                    await ReportAsync(order, MigrationReportPhases.Precopy, tally, "", cancellationToken);
                    if (round.BytesSent <= ConvergedBytes || round.BytesSent >= previous) break;
                    previous = round.BytesSent;
                }
            }
            tally.StoppedAtMs = (await stop(cancellationToken)).ToUnixTimeMilliseconds();
            await ReportAsync(order, MigrationReportPhases.FinalCopy, tally, "", cancellationToken);
            tally.Add(await FolderTransfer.SendAsync(folder, receiver, options, reporter, cancellationToken), logger, order.MigrationId);
            await ReportUntilHeardAsync(order, MigrationReportPhases.Handover, tally, "", cancellationToken);
            logger.LogInformation("Migration {MigrationId}: handed over to node {TargetNodeId} after {Rounds} rounds, {BytesSent} of {BytesTotal} bytes sent",
                order.MigrationId, order.TargetNodeId, tally.Rounds, tally.Sent, tally.Total);
        }
        catch (MigrationEndedException ex) when (ex.Phase == MigrationPhases.Starting)
        {
            // An earlier run of this migration handed over already: what the target received is its to start.
        }
        catch (Exception ex) when (ex is OperationCanceledException or MigrationEndedException)
        {
            logger.LogInformation("Migration {MigrationId} ended by Compute; discarding what the target received", order.MigrationId);
            await DiscardAsync(receiver, order);
        }
        catch (Exception ex)
        {
            var reason = ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;
            logger.LogWarning(ex, "Migration {MigrationId} failed: {Reason}", order.MigrationId, reason);
            await DiscardAsync(receiver, order);
            await ReportUntilHeardAsync(order, MigrationReportPhases.Failed, tally, reason, cancellationToken);
        }
    }

    /// <summary>A run that resumes a migration (its agent restarted) counts on from what the earlier runs reported.</summary>
    async Task ResumeCountsAsync(MigrationOrder order, Tally tally, CancellationToken cancellationToken)
    {
        try
        {
            var prior = await compute.ReportMigrationAsync(new MigrationReport { NodeId = identity.NodeId.ToString(), MigrationId = order.MigrationId, Phase = MigrationReportPhases.Started },
                deadline: ServiceDefaults.Grpc.CallDeadlines.FromNow(), cancellationToken: cancellationToken);
            if (!MigrationPhases.StillSending(prior.Phase)) throw new MigrationEndedException(prior.Phase);
            (tally.Sent, tally.Saved, tally.Rounds) = (prior.BytesSent, prior.BytesSaved, prior.Rounds);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            logger.LogWarning("Could not ask Compute how far migration {MigrationId} got ({Reason}); counting from zero", order.MigrationId, ex.Status.Detail);
        }
    }

    async Task DiscardAsync(RemoteBlockReceiver receiver, MigrationOrder order)
    {
        try
        {
            await receiver.DiscardAsync(CancellationToken.None);
        }
        catch (RpcException ex)
        {
            logger.LogWarning("Could not discard migration {MigrationId} on its target ({Reason}); the target removes stale staging itself", order.MigrationId, ex.Status.Detail);
        }
    }

    async Task ReportAsync(MigrationOrder order, string phase, Tally tally, string error, CancellationToken cancellationToken)
    {
        var current = tally.Current;
        var response = await compute.ReportMigrationAsync(new MigrationReport
        {
            NodeId = identity.NodeId.ToString(), MigrationId = order.MigrationId, Phase = phase, Error = error, Rounds = tally.Rounds,
            BytesTotal = Math.Max(tally.Total, current?.BytesTotal ?? 0), BytesSent = tally.Sent + (current?.BytesSent ?? 0),
            BytesSaved = tally.Saved, StoppedAtMs = tally.StoppedAtMs,
        }, deadline: ServiceDefaults.Grpc.CallDeadlines.FromNow(), cancellationToken: cancellationToken);
        if (!MigrationPhases.StillSending(response.Phase) && !(phase == MigrationReportPhases.Handover && response.Phase == MigrationPhases.Starting))
            throw new MigrationEndedException(response.Phase);
    }

    /// <summary>The handover and a failure must reach Compute: retried while Compute cannot be reached.</summary>
    async Task ReportUntilHeardAsync(MigrationOrder order, string phase, Tally tally, string error, CancellationToken cancellationToken)
    {
        for (var delay = TimeSpan.FromMilliseconds(250); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await ReportAsync(order, phase, tally, error, cancellationToken);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
            {
                logger.LogWarning("Reporting {Phase} of migration {MigrationId} failed ({Reason}); retrying", phase, order.MigrationId, ex.Status.Detail);
            }
            catch (MigrationEndedException) when (phase == MigrationReportPhases.Failed)
            {
                return;
            }
            await Task.Delay(delay, clock, cancellationToken);
        }
    }

    /// <summary>Block-by-block progress, sent to Compute at most every <see cref="ProgressInterval"/>, one report at a time.</summary>
    sealed class PeriodicProgress(MigrationRunner runner, MigrationOrder order, Tally tally) : IProgress<TransferResult>, IDisposable
    {
        readonly Stopwatch sinceReport = Stopwatch.StartNew();
        readonly CancellationTokenSource stopped = new();
        int reporting;

        public void Report(TransferResult value)
        {
            tally.Current = value;
            if (sinceReport.Elapsed < ProgressInterval || Interlocked.Exchange(ref reporting, 1) == 1) return;
            sinceReport.Restart();
            var phase = tally.StoppedAtMs == 0 && order.Type is ("warm" or "live") ? MigrationReportPhases.Precopy : MigrationReportPhases.FinalCopy;
            _ = Task.Run(async () =>
            {
                try
                {
                    await runner.ReportAsync(order, phase, tally, "", stopped.Token);
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException or MigrationEndedException)
                {
                    // Progress only: the next step's own report carries the news.
                }
                finally
                {
                    Interlocked.Exchange(ref reporting, 0);
                }
            });
        }

        public void Dispose()
        {
            stopped.Cancel();
            stopped.Dispose();
        }
    }
}
