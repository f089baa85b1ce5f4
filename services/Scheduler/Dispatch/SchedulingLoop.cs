using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Payments;
using Platform.Scheduler.Placement;
using Platform.Scheduler.Priority;
using Platform.ServiceDefaults.Data;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// The scheduler's loop, on one replica at a time, every interval or sooner when woken (<see cref="LoopWakeups"/>): follow the placed jobs; settle their
/// payments and report nodes' SLA breaches (when the token economy is on); finish dispatching jobs a
/// crash left scheduled without a workload (same idempotency key, so no twin); cancel jobs whose dependencies failed;
/// then, when the queue or the cluster changed, solve for the pending jobs whose dependencies completed, record the
/// decision, mark each placement scheduled and dispatch it; and let gold jobs that found no room preempt bronze ones.
/// </summary>
public sealed class SchedulingLoop(
    NpgsqlDataSource db, JobStore jobs, ClusterReader cluster, JobFollower follower, JobDispatcher dispatcher, DependencyGate dependencies,
    PlacementRecorder recorder, Preemption preemption, FairShareStore fairShare, LoopWakeups wakeups, JobPayments payments, SlaBreaches slaBreaches, JobEvents events,
    IOptions<PlacementOptions> options, TimeProvider clock, ILogger<SchedulingLoop> logger) : BackgroundService
{
    const long LockKey = 0x7363686564; // "sched"
    string lastInput = "";
    DateTimeOffset lastSolvedAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var replica = new SingleReplica(db, LockKey, logger);
        while (!stoppingToken.IsCancellationRequested)
        {
            await wakeups.WaitAsync(options.Value.Interval, clock, stoppingToken);
            if (stoppingToken.IsCancellationRequested || !await replica.IsMineAsync(stoppingToken)) continue;
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever one round meets (the database away, a bad figure from a node), the loop goes on: it is every job's.
                logger.LogError(ex, "Scheduling round failed; next try in {Interval}", options.Value.Interval);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        // Following and placing are independent: a failure to follow (Compute slow to list) does not hold the queue back.
        try
        {
            await follower.FollowAsync(await jobs.InStatesAsync(JobStates.Placed, cancellationToken), cancellationToken);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Placed jobs not followed this round: Compute did not answer ({Status}: {Detail})", ex.StatusCode, ex.Status.Detail);
        }
        if (payments.Enabled)
        {
            await payments.SettleAsync(cancellationToken);
            await slaBreaches.ReportAsync(cancellationToken);
        }
        try
        {
            IReadOnlyList<ClusterNode>? nodes = null;
            foreach (var job in (await jobs.InStatesAsync([JobStates.Scheduled], cancellationToken)).Where(j => j.WorkloadId is null))
            {
                if (clock.GetUtcNow() - job.UpdatedAt > options.Value.StartTimeout)
                    await follower.RequeueAsync(job, JobReasons.StartTimeout, $"Compute did not take its workload within {options.Value.StartTimeout.TotalMinutes:0} minutes", null, cancellationToken);
                else
                {
                    nodes ??= payments.Enabled ? await cluster.NodesAsync(cancellationToken) : [];
                    await DispatchAsync(job, nodes.FirstOrDefault(n => n.NodeId == job.NodeId), cancellationToken);
                }
            }
            var ready = await dependencies.ReadyAsync(await jobs.InStatesAsync([JobStates.Pending], cancellationToken), cancellationToken);
            if (ready.Count == 0) return;
            await SolveAsync(ready, cancellationToken);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("No placement this round: Compute did not answer ({Status}: {Detail})", ex.StatusCode, ex.Status.Detail);
        }
    }

    /// <summary>
    /// Reserves one job's price (when jobs are paid for) and dispatches it; Compute or Tokenomics failing for this one (it
    /// stays scheduled, tried again next round with the same keys) holds no other back. An owner who cannot pay fails the job.
    /// </summary>
    async Task DispatchAsync(JobRow job, ClusterNode? node, CancellationToken cancellationToken)
    {
        try
        {
            if (payments.Enabled)
            {
                if (node is null) return; // its node is gone from Compute: the start timeout places it again
                var (reserved, refusal) = await payments.ReserveAsync(job, node, cancellationToken);
                if (!reserved)
                {
                    var (failed, _) = await jobs.TransitionAsync(job.JobId, [JobStates.Scheduled], j => j.Finished(JobStates.Failed, JobReasons.PaymentRefused, null, clock.GetUtcNow()) with { NodeId = null },
                        $"its price could not be reserved: {refusal}", cancellationToken, when: j => j.WorkloadId is null && j.Attempts == job.Attempts);
                    logger.LogWarning("Job {JobId} failed: its price could not be reserved ({Reason})", job.JobId, refusal);
                    if (failed is not null) await events.ChangedAsync(failed);
                    return;
                }
            }
            await dispatcher.DispatchAsync(job, cancellationToken);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Job {JobId} not dispatched this round ({Status}: {Detail}); it is tried again", job.JobId, ex.StatusCode, ex.Status.Detail);
        }
    }

    async Task SolveAsync(IReadOnlyList<JobRow> ready, CancellationToken cancellationToken)
    {
        var nodes = await cluster.NodesAsync(cancellationToken);
        var placed = await jobs.InStatesAsync(JobStates.Placed, cancellationToken);
        var priorities = await fairShare.PrioritiesAsync(ClusterNode.ReadyCpuMillis(nodes), cancellationToken);
        var now = clock.GetUtcNow();
        // The batch is the most urgent jobs some node could take: jobs no node can take never crowd out those that fit.
        var batch = PlacementBatch.Build(ready.OrderByDescending(priorities.Of), nodes, placed, options.Value, now);
        // Nothing changed since a solve that placed nothing: the same question would get the same answer (asked again
        // after a minute in any case).
        var input = string.Join(';', batch.Jobs.Select(j => $"{j.JobId}@{j.UpdatedAt.UtcTicks}")) + "|" + string.Join(';', batch.Nodes.Select(n => n.Fingerprint));
        if (batch.Jobs.Count == 0 || input == lastInput && now - lastSolvedAt < TimeSpan.FromMinutes(1)) return;
        lastSolvedAt = now;

        var result = PlacementSolver.Solve(batch.Problem, await recorder.WeightsAsync(cancellationToken), options.Value, seed: (int)(now.ToUnixTimeMilliseconds() & 0x7fffffff), cancellationToken);
        var decision = await recorder.RecordAsync(batch, result, now, cancellationToken);
        lastInput = PlacementSolver.Placed(result.Chosen) == 0 ? input : "";
        logger.LogInformation("Placed {Placed} of {Jobs} pending jobs on {Nodes} nodes in {Milliseconds:0} ms ({Generations} generations, front of {Front}); decision {DecisionId}",
            PlacementSolver.Placed(result.Chosen), batch.Jobs.Count, batch.Nodes.Count, result.Elapsed.TotalMilliseconds, result.Generations, result.Front.Count, decision.DecisionId);

        for (var j = 0; j < batch.Jobs.Count; j++)
        {
            if (result.Chosen[j] < 0) continue;
            var node = batch.Nodes[result.Chosen[j]];
            var solvedFor = batch.Jobs[j].UpdatedAt;
            var (scheduled, _) = await jobs.TransitionAsync(batch.Jobs[j].JobId, [JobStates.Pending], job => job with
            {
                Status = JobStates.Scheduled, Reason = JobReasons.Placed, NodeId = node.NodeId, WorkloadId = null, Attempts = job.Attempts + 1,
                ExitCode = null, UpdatedAt = clock.GetUtcNow(),
            }, $"placed on {node.Name} by decision {decision.DecisionId}", cancellationToken, when: job => job.UpdatedAt == solvedFor);
            if (scheduled is null) continue; // cancelled, or changed since the solve: the next solve places it as it is now
            await recorder.ScheduledAsync(scheduled);
            await DispatchAsync(scheduled, node, cancellationToken);
        }
        if (options.Value.Preemption) await preemption.MakeRoomAsync(batch, result.Chosen, placed, cancellationToken);
    }
}
