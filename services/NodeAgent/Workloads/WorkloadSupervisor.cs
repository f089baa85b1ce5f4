using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Migration;
using Platform.NodeAgent.Registration;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// Makes this node run what Compute assigns to it. It watches Compute's stream of changes (and looks again every
/// resync interval), lists the node's assignments, brings each workload to its desired state with its driver, applies
/// restart policies to workloads that exit by themselves, removes workloads no longer assigned here, and reports every
/// workload's power state. On start it recovers the workloads its previous run left (re-attaching to their processes).
/// </summary>
public sealed partial class WorkloadSupervisor(
    WorkloadAssignments.WorkloadAssignmentsClient compute, NodeIdentity identity, RegistrationState registration,
    IEnumerable<IWorkloadDriver> drivers, MigrationRunner migrations, MigrationStaging staging, IOptions<WorkloadOptions> options,
    TimeProvider clock, ILogger<WorkloadSupervisor> logger)
    : BackgroundService
{
    readonly ConcurrentDictionary<string, LocalWorkload> workloads = new();
    readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // 1 when the next pass reports every workload (at start and every resync), not only the ones that changed.
    int fullReportDue = 1;
    string Root => Path.Combine(identity.StateDirectory, "workloads");

    /// <summary>The workloads this agent supervises now.</summary>
    public IReadOnlyCollection<LocalWorkload> Workloads => [.. workloads.Values];

    public IWorkloadDriver? Driver(string name) => drivers.FirstOrDefault(d => d.Name == name);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Recover();
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
        if (!options.Value.StopWorkloadsOnExit) return;
        // The platform is shutting down its local nodes: stop the work too, and start it again when the agent returns.
        await Task.WhenAll(workloads.Values.Where(w => w.Handle is not null).Select(async workload =>
        {
            await StopProcessAsync(workload, TimeSpan.FromSeconds(5), CancellationToken.None);
            workload.Generation = 0;
            workload.Save();
        }));
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
        var assignments = (await compute.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = identity.NodeId.ToString() }, cancellationToken: cancellationToken)).Assignments;
        var assigned = assignments.Select(a => a.WorkloadId).ToHashSet();
        var reports = await Task.WhenAll(assignments.Select(a => ApplyAsync(a, cancellationToken))
            .Concat(workloads.Keys.Where(id => !assigned.Contains(id)).Select(id => RemoveAsync(id, "no longer assigned to this node", null, cancellationToken))));
        await ReportAsync(reports.OfType<WorkloadReport>().Where(r => full || r.Absent || !r.Equals(workloads.GetValueOrDefault(r.WorkloadId)?.LastReport)), cancellationToken);
    }

    async Task<WorkloadReport?> ApplyAsync(Assignment assignment, CancellationToken cancellationToken)
    {
        if (assignment.DesiredState == "absent")
            return await RemoveAsync(assignment.WorkloadId, "deleted", assignment.Generation, cancellationToken) ?? new WorkloadReport { WorkloadId = assignment.WorkloadId, Generation = assignment.Generation, Absent = true, PowerState = "nostate" };

        var workload = workloads.GetOrAdd(assignment.WorkloadId, id => new LocalWorkload
        {
            WorkloadId = id, Name = assignment.Name, Driver = assignment.Driver, Folder = Path.Combine(Root, id),
        });
        // Compute ended the migration this agent was sending (aborted, failed): its run stops before anything else.
        if (workload.MigrationId is not null && assignment.Migration?.MigrationId != workload.MigrationId) await EndMigrationRunAsync(workload);
        await workload.Gate.WaitAsync(cancellationToken);
        try
        {
            workload.Assignment = assignment;
            workload.Name = assignment.Name;
            if (assignment.Migration is { Role: "source" } outgoing)
                return Migrate(workload, assignment, outgoing);
            if (assignment.Migration is { Role: "target" } incoming && workload.Handle is null && staging.Adopt(Guid.Parse(incoming.MigrationId), workload.Folder))
                workload.Message = $"migrated here (migration {incoming.MigrationId})";
            var alive = workload.Handle is not null;
            var timeout = assignment.ForceStop ? TimeSpan.Zero : TimeSpan.FromMilliseconds(assignment.StopTimeoutMs);
            switch (assignment.DesiredState)
            {
                case "stopped" when alive:
                    await StopProcessAsync(workload, timeout, cancellationToken);
                    break;
                case "paused" when alive && workload.Power != "paused":
                    Driver(workload.Driver)!.Signal(workload.Handle!, Signals.Stop);
                    workload.Power = "paused";
                    break;
                case "running" when alive && assignment.RestartGeneration > workload.RestartGeneration:
                    await StopProcessAsync(workload, assignment.RestartHard ? TimeSpan.Zero : timeout, cancellationToken);
                    await StartProcessAsync(workload, assignment, cancellationToken);
                    break;
                case "running" when alive && workload.Power == "paused":
                    Driver(workload.Driver)!.Signal(workload.Handle!, Signals.Cont);
                    workload.Power = "running";
                    break;
                case "running" when !alive && assignment.Generation > workload.Generation:
                    await StartProcessAsync(workload, assignment, cancellationToken);
                    break;
            }
            workload.Generation = assignment.Generation;
            workload.RestartGeneration = Math.Max(workload.RestartGeneration, assignment.RestartGeneration);
            var report = workload.ToReport();
            if (!report.Equals(workload.LastReport))
            {
                Directory.CreateDirectory(workload.Folder);
                workload.Save();
            }
            return report;
        }
        finally
        {
            workload.Gate.Release();
        }
    }

    /// <summary>
    /// A workload migrating away: the run that sends it is started once (again after an agent restart: it resumes).
    /// Once handed over (<c>migrated</c>) the copy here stays, stopped, until Compute drops it from this node.
    /// </summary>
    WorkloadReport Migrate(LocalWorkload workload, Assignment assignment, MigrationOrder order)
    {
        workload.Generation = assignment.Generation;
        if (assignment.DesiredState != "migrated" && (workload.MigrationId != order.MigrationId || workload.MigrationRun is { IsCompleted: true }))
        {
            workload.MigrationId = order.MigrationId;
            workload.MigrationCancel = new CancellationTokenSource();
            var cancel = workload.MigrationCancel.Token;
            var live = order.Type == "live";
            workload.MigrationRun = Task.Run(() => migrations.RunAsync(workload.Folder, order, token => StopForMigrationAsync(workload, live, token), cancel), CancellationToken.None);
            logger.LogInformation("Migrating workload {WorkloadName} ({WorkloadId}) to node {TargetNodeId}: {Type}, migration {MigrationId}",
                workload.Name, workload.WorkloadId, order.TargetNodeId, order.Type, order.MigrationId);
        }
        return workload.ToReport();
    }

    /// <summary>
    /// Stops the workload for the final copy — with its stop timeout, or for a live migration by checkpointing it into
    /// its folder, where the images travel with it — and says when it stopped. A checkpoint that fails leaves the
    /// workload running (CRIU resumes it) and fails the migration.
    /// </summary>
    async Task<DateTimeOffset> StopForMigrationAsync(LocalWorkload workload, bool live, CancellationToken cancellationToken)
    {
        await workload.Gate.WaitAsync(cancellationToken);
        try
        {
            if (workload.Handle is { } handle)
            {
                workload.StopRequested = true;
                // Not cancelled halfway: a workload left between SIGTERM and its exit would be neither here nor there.
                if (live)
                {
                    try
                    {
                        await Driver(workload.Driver)!.CheckpointAsync(handle, Path.Combine(workload.Folder, CriuCheckpoint.ImagesFolder), CancellationToken.None);
                    }
                    catch
                    {
                        workload.StopRequested = false;
                        throw;
                    }
                    (workload.Handle, workload.Power, workload.ExitCode, workload.FinishedAt) = (null, "shutdown", null, clock.GetUtcNow());
                }
                else await StopProcessAsync(workload, TimeSpan.FromMilliseconds(workload.Assignment?.StopTimeoutMs ?? 10_000), CancellationToken.None);
                workload.Message = live ? "checkpointed for live migration" : "stopped for migration";
                workload.Save();
                wake.Writer.TryWrite(true);
            }
            return workload.FinishedAt ?? clock.GetUtcNow();
        }
        finally
        {
            workload.Gate.Release();
        }
    }

    static async Task EndMigrationRunAsync(LocalWorkload workload)
    {
        if (workload.MigrationCancel is { } cancel) await cancel.CancelAsync();
        if (workload.MigrationRun is { } run) await run.ContinueWith(_ => { }, TaskScheduler.Default);
        workload.MigrationCancel?.Dispose();
        (workload.MigrationId, workload.MigrationRun, workload.MigrationCancel) = (null, null, null);
    }

    async Task<WorkloadReport?> RemoveAsync(string workloadId, string why, long? generation, CancellationToken cancellationToken)
    {
        if (!workloads.TryGetValue(workloadId, out var workload)) return null;
        if (workload.MigrationId is not null) await EndMigrationRunAsync(workload);
        await workload.Gate.WaitAsync(cancellationToken);
        try
        {
            if (workload.Handle is not null) await StopProcessAsync(workload, TimeSpan.Zero, cancellationToken);
            // Its process has exited (stopped above): the driver removes what is left, its folder.
            if (Driver(workload.Driver) is { } driver) driver.Destroy(new WorkloadHandle(workload.Driver, workload.Folder, 0, 0));
            else if (Directory.Exists(workload.Folder)) Directory.Delete(workload.Folder, recursive: true);
            workloads.TryRemove(workloadId, out _);
            logger.LogInformation("Removed workload {WorkloadName} ({WorkloadId}): {Why}", workload.Name, workloadId, why);
            var report = workload.ToReport(absent: true);
            report.Generation = generation ?? workload.Generation;
            return report;
        }
        finally
        {
            workload.Gate.Release();
        }
    }

    async Task StartProcessAsync(LocalWorkload workload, Assignment assignment, CancellationToken cancellationToken)
    {
        var driver = Driver(assignment.Driver);
        var fingerprint = driver?.Fingerprint();
        if (driver is null || fingerprint is { Available: false })
        {
            (workload.Power, workload.Message, workload.ExitCode) = ("crashed", $"driver {assignment.Driver} is not available on this node{(fingerprint is null ? "" : $": {fingerprint.Reason}")}", null);
            return;
        }
        var checkpoint = Path.Combine(workload.Folder, CriuCheckpoint.ImagesFolder);
        try
        {
            // A folder holding a checkpoint (a live migration's, here or back on its source) is restored, once.
            workload.Handle = Directory.Exists(checkpoint)
                ? await driver.RestoreAsync(workload.Folder, checkpoint, cancellationToken)
                : await driver.StartAsync(assignment, workload.Folder, cancellationToken);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException or CheckpointException or NotSupportedException)
        {
            (workload.Power, workload.Message, workload.ExitCode) = ("crashed", $"could not {(ex is CheckpointException or NotSupportedException ? "restore its checkpoint" : "start")}: {ex.Message}", null);
            return;
        }
        finally
        {
            if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true);
        }
        (workload.Power, workload.Message, workload.ExitCode, workload.StartedAt, workload.FinishedAt) = ("running", "", null, clock.GetUtcNow(), null);
        workload.StopRequested = false;
        _ = WatchExitAsync(workload, workload.Handle, driver);
    }

    /// <summary>Stops the workload's process and records how it ended; the exit watcher then stands down.</summary>
    async Task StopProcessAsync(LocalWorkload workload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (workload.Handle is not { } handle || Driver(workload.Driver) is not { } driver) return;
        workload.StopRequested = true;
        await driver.StopAsync(handle, timeout, cancellationToken);
        var code = await driver.WaitAsync(handle, cancellationToken);
        (workload.Handle, workload.Power, workload.ExitCode, workload.FinishedAt) = (null, "shutdown", code ?? (timeout == TimeSpan.Zero ? 137 : null), clock.GetUtcNow());
    }


    async Task ReportAsync(IEnumerable<WorkloadReport> reports, CancellationToken cancellationToken)
    {
        var request = new ReportWorkloadsRequest { NodeId = identity.NodeId.ToString() };
        request.Reports.AddRange(reports);
        if (request.Reports.Count == 0) return;
        try
        {
            await compute.ReportWorkloadsAsync(request, cancellationToken: cancellationToken);
            foreach (var report in request.Reports)
                if (workloads.TryGetValue(report.WorkloadId, out var workload)) workload.LastReport = report;
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Reporting {Count} workloads failed ({Reason}); the next pass reports them again", request.Reports.Count, ex.Message);
        }
    }
}

/// <summary>Configuration under <c>NodeAgent:Workloads</c>.</summary>
public sealed class WorkloadOptions
{
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop the workloads when the agent stops gracefully (the AppHost's local nodes); they start again with it.</summary>
    public bool StopWorkloadsOnExit { get; set; }
}
