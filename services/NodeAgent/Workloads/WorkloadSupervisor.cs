using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Migration;
using Platform.NodeAgent.Registration;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// Makes this node run what Compute assigns to it. It watches Compute's stream of changes (and looks again every
/// resync interval), lists the node's assignments, brings each workload to its desired state (<see cref="LocalWorkloads"/>
/// runs the processes and their restart policies), sends the ones migrating away (<see cref="OutgoingMigrations"/>),
/// removes workloads no longer assigned here, and reports what changed. On start it recovers the workloads its previous
/// run left.
/// </summary>
public sealed class WorkloadSupervisor(
    WorkloadAssignments.WorkloadAssignmentsClient compute, NodeIdentity identity, RegistrationState registration, LocalWorkloads local,
    OutgoingMigrations outgoing, MigrationStaging staging, WorkloadReporter reporter, IOptions<WorkloadOptions> options,
    TimeProvider clock, ILogger<WorkloadSupervisor> logger)
    : BackgroundService
{
    readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // 1 when the next pass reports every workload (at start and every resync), not only the ones that changed.
    int fullReportDue = 1;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        staging.RemoveStale(clock.GetUtcNow());
        local.Recover();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = WatchAsync(stoppingToken);
        _ = ResyncAsync(stoppingToken);
        try
        {
            await foreach (var _ in wake.Reader.ReadAllAsync(stoppingToken))
            {
                if (!registration.IsRegistered) continue;
                try
                {
                    await ReconcileAsync(Interlocked.Exchange(ref fullReportDue, 0) == 1, stoppingToken);
                }
                catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Reconciling workloads failed ({Reason}); trying again at the next change or resync", ex.Status.Detail);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (options.Value.StopWorkloadsOnExit) await local.StopAllAsync();
    }

    /// <summary>Wakes the reconciler whenever Compute says the assignments changed; reconnects with a backoff.</summary>
    async Task WatchAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (registration.IsRegistered)
                {
                    using var call = compute.WatchAssignments(new ListAssignmentsRequest { NodeId = identity.NodeId.ToString() }, cancellationToken: stoppingToken);
                    await foreach (var _ in call.ResponseStream.ReadAllAsync(stoppingToken))
                    {
                        backoff = TimeSpan.FromMilliseconds(250);
                        wake.Writer.TryWrite(true);
                    }
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException)
            {
                logger.LogDebug("Assignment watch ended ({Reason}); reconnecting in {Backoff}", ex.Message, backoff);
            }
            await Task.Delay(backoff, clock, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

    async Task ResyncAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ResyncInterval, clock);
        do
        {
            Interlocked.Exchange(ref fullReportDue, 1);
            wake.Writer.TryWrite(true);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));
    }

    /// <summary>
    /// One pass: every assignment brought to its desired state, every unassigned workload removed; what changed is
    /// reported (everything, when <paramref name="full"/>), so a pass over a node with many workloads stays cheap.
    /// </summary>
    public async Task ReconcileAsync(bool full, CancellationToken cancellationToken)
    {
        var assignments = (await compute.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = identity.NodeId.ToString() }, deadline: ServiceDefaults.Grpc.CallDeadlines.FromNow(), cancellationToken: cancellationToken)).Assignments;
        var assigned = assignments.Select(a => a.WorkloadId).ToHashSet();
        var unassigned = local.Ids.Where(id => !assigned.Contains(id)).ToList();
        var reports = await Task.WhenAll(assignments.Select(a => IsolatedAsync(a.WorkloadId, () => ApplyAsync(a, cancellationToken)))
            .Concat(unassigned.Select(id => IsolatedAsync(id, () => RemoveAsync(id, "no longer assigned to this node", null, cancellationToken)))));
        await reporter.ReportAsync([.. reports.OfType<(LocalWorkload? Workload, WorkloadReport Report)>()
            .Where(r => full || r.Report.Absent || !r.Report.Equals(r.Workload?.LastReport))], cancellationToken);
    }

    /// <summary>
    /// One workload's step of a pass: whatever it throws (a folder the driver cannot delete, a start that fails oddly) is
    /// logged and tried again at the next pass, and never stops the other workloads or the agent.
    /// </summary>
    async Task<(LocalWorkload?, WorkloadReport)?> IsolatedAsync(string workloadId, Func<Task<(LocalWorkload?, WorkloadReport)?>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Workload {WorkloadId}: this pass could not apply its assignment; the next pass tries again", workloadId);
            return null;
        }
    }

    async Task<(LocalWorkload?, WorkloadReport)?> ApplyAsync(Assignment assignment, CancellationToken cancellationToken)
    {
        if (assignment.DesiredState == DesiredStates.Absent)
            return await RemoveAsync(assignment.WorkloadId, "deleted", assignment.Generation, cancellationToken)
                ?? (null, new WorkloadReport { WorkloadId = assignment.WorkloadId, Generation = assignment.Generation, Absent = true, PowerState = PowerStates.NoState });

        var workload = local.GetOrAdd(assignment);
        // Compute ended the migration this agent was sending (aborted, failed): its run stops before anything else.
        if (outgoing.IsSending(workload.WorkloadId) is { } sending && assignment.Migration?.MigrationId != sending)
            await outgoing.EndAsync(workload.WorkloadId);
        using (await workload.LockAsync(cancellationToken))
        {
            workload.Assignment = assignment;
            workload.Name = assignment.Name;
            if (assignment.Migration is { Role: "source" } order)
            {
                workload.Generation = assignment.Generation;
                // Once handed over (migrated) the copy here stays, stopped, until Compute drops it from this node.
                if (assignment.DesiredState != DesiredStates.Migrated)
                    outgoing.Ensure(workload.WorkloadId, workload.Name, workload.Folder, order, (live, token) => StopForMigrationAsync(workload, live, token));
                return (workload, workload.ToReport());
            }
            if (assignment.Migration is { Role: "target" } incoming && workload.Handle is null && staging.Adopt(Guid.Parse(incoming.MigrationId), workload.Folder))
                workload.Message = $"migrated here (migration {incoming.MigrationId})";
            await BringToDesiredStateAsync(workload, assignment, cancellationToken);
            workload.Generation = assignment.Generation;
            workload.RestartGeneration = Math.Max(workload.RestartGeneration, assignment.RestartGeneration);
            var report = workload.ToReport();
            if (!report.Equals(workload.LastReport))
            {
                Directory.CreateDirectory(workload.Folder);
                workload.Save();
            }
            return (workload, report);
        }
    }

    async Task BringToDesiredStateAsync(LocalWorkload workload, Assignment assignment, CancellationToken cancellationToken)
    {
        var alive = workload.Handle is not null;
        var timeout = assignment.ForceStop ? TimeSpan.Zero : TimeSpan.FromMilliseconds(assignment.StopTimeoutMs);
        switch (assignment.DesiredState)
        {
            case DesiredStates.Stopped when alive:
                await local.StopAsync(workload, timeout, cancellationToken);
                break;
            case DesiredStates.Paused when alive && workload.Power != PowerStates.Paused:
                local.Driver(workload.Driver)!.Signal(workload.Handle!, Signals.Stop);
                workload.Power = PowerStates.Paused;
                break;
            case DesiredStates.Running when alive && assignment.RestartGeneration > workload.RestartGeneration:
                await local.StopAsync(workload, assignment.RestartHard ? TimeSpan.Zero : timeout, cancellationToken);
                await local.StartAsync(workload, assignment, cancellationToken);
                break;
            case DesiredStates.Running when alive && workload.Power == PowerStates.Paused:
                local.Driver(workload.Driver)!.Signal(workload.Handle!, Signals.Cont);
                workload.Power = PowerStates.Running;
                break;
            case DesiredStates.Running when !alive && assignment.Generation > workload.Generation:
                await local.StartAsync(workload, assignment, cancellationToken);
                break;
        }
    }

    /// <summary>
    /// Stops the workload for the final copy — with its stop timeout, or for a live migration by checkpointing it into
    /// its folder, where the images travel with it — and says when it stopped. A checkpoint that fails leaves the
    /// workload running (CRIU resumes it) and fails the migration.
    /// </summary>
    async Task<DateTimeOffset> StopForMigrationAsync(LocalWorkload workload, bool live, CancellationToken cancellationToken)
    {
        using (await workload.LockAsync(cancellationToken))
        {
            if (workload.Handle is not null)
            {
                // Not cancelled halfway: a workload left between SIGTERM and its exit would be neither here nor there.
                if (live) await local.CheckpointAsync(workload, CancellationToken.None);
                else await local.StopAsync(workload, TimeSpan.FromMilliseconds(workload.Assignment?.StopTimeoutMs ?? 10_000), CancellationToken.None);
                workload.Message = live ? "checkpointed for live migration" : "stopped for migration";
                workload.Save();
                wake.Writer.TryWrite(true);
            }
            return workload.FinishedAt ?? clock.GetUtcNow();
        }
    }

    async Task<(LocalWorkload?, WorkloadReport)?> RemoveAsync(string workloadId, string why, long? generation, CancellationToken cancellationToken)
    {
        if (local.Find(workloadId) is not { } workload) return null;
        await outgoing.EndAsync(workloadId);
        using (await workload.LockAsync(cancellationToken))
            return await local.RemoveAsync(workload, why, generation, cancellationToken) is { } report ? (workload, report) : null;
    }
}

/// <summary>Configuration under <c>NodeAgent:Workloads</c>.</summary>
public sealed class WorkloadOptions
{
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop the workloads when the agent stops gracefully (the AppHost's local nodes); they start again with it.</summary>
    public bool StopWorkloadsOnExit { get; set; }
}
