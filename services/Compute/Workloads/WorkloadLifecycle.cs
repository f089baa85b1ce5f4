using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>
/// Everything that changes workloads — callers' actions, agents' reports, nodes going down or draining — goes through
/// here: the store commits, then the events go out (and with them the agents' wake-up calls).
/// </summary>
public sealed class WorkloadLifecycle(WorkloadStore store, WorkloadEvents events, TimeProvider clock, ILogger<WorkloadLifecycle> logger)
{
    public async Task<(WorkloadRecord Workload, OperationRecord Operation)> CreateAsync(CreateWorkloadRequest request, string owner, CancellationToken cancellationToken,
        Func<Npgsql.NpgsqlConnection, Npgsql.NpgsqlTransaction, Guid, Task>? alsoRecord = null)
    {
        var (workload, operation, replayed) = await store.CreateAsync(request, owner, clock.GetUtcNow(), cancellationToken, alsoRecord);
        if (!replayed)
        {
            logger.LogInformation("Workload {WorkloadName} ({WorkloadId}) placed on node {NodeId} for {Owner}", workload.Name, workload.WorkloadId, workload.NodeId, owner);
            await events.AcceptedAsync(workload, operation);
        }
        return (workload, operation);
    }

    /// <summary>Runs an action; null when there is no such workload. Instant actions (update) finish at once.</summary>
    public async Task<(WorkloadRecord Workload, OperationRecord Operation)?> ActAsync(Guid workloadId, WorkloadAction action, string requestedBy,
        CancellationToken cancellationToken, string change = "", params object[] changeParameters)
    {
        var result = await store.ApplyAsync(workloadId, action, requestedBy, clock.GetUtcNow(), change, changeParameters, cancellationToken);
        if (result is not { } done) return null;
        logger.LogInformation("Workload {WorkloadId}: {Action} by {RequestedBy}", workloadId, action.Name, requestedBy);
        if (done.Operation.Status == "running") await events.AcceptedAsync(done.Workload, done.Operation);
        else await events.FinishedAsync(done.Workload, done.Operation);
        return done;
    }

    public async Task ReportAsync(Guid nodeId, IEnumerable<WorkloadReport> reports, CancellationToken cancellationToken)
    {
        foreach (var (workload, finished) in await store.ApplyReportsAsync(nodeId, reports, clock.GetUtcNow(), cancellationToken))
        {
            if (finished is not null)
            {
                logger.LogInformation("Workload {WorkloadId}: {Action} {Status}{Error}", workload.WorkloadId, finished.Action, finished.Status,
                    finished.Error == "" ? "" : $" ({finished.Error})");
                await events.FinishedAsync(workload, finished);
                if (finished.Action == WorkloadTransitions.Migrate.Name
                    && (await store.ListMigrationsAsync(workload.WorkloadId, activeOnly: false, cancellationToken)).FirstOrDefault() is { } migration)
                    await events.MigrationAsync(migration.Phase, migration, workload, finished);
            }
            else await events.ChangedAsync(workload);
        }
    }

    /// <summary>
    /// A node is Down: its workloads whose restart policy allows it are placed on other nodes; the others are lost
    /// (and come back if the node does). A workload handed over to it by a migration goes back to its source.
    /// </summary>
    public async Task NodeDownAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        foreach (var workload in await store.OnNodeAsync(nodeId, cancellationToken))
        {
            if (workload.VmState == "lost") continue;
            if (workload.TaskState == "migrating" && await store.ReturnFromDownTargetAsync(workload.WorkloadId, nodeId, clock.GetUtcNow(), cancellationToken) is { } back)
            {
                logger.LogWarning("Workload {WorkloadId} goes back to node {SourceNodeId}: node {NodeId}, its migration target, is down", workload.WorkloadId, back.Migration.SourceNodeId, nodeId);
                await events.MigrationAsync("failed", back.Migration, back.Workload, back.Finished);
                if (back.Finished is not null) await events.FinishedAsync(back.Workload, back.Finished);
                continue;
            }
            if (workload.RestartPolicy == "never" || workload.DesiredState != "running")
            {
                if (await store.MarkLostAsync(workload.WorkloadId, clock.GetUtcNow(), cancellationToken) is { } lost)
                {
                    logger.LogWarning("Workload {WorkloadId} is lost: node {NodeId} is down", workload.WorkloadId, nodeId);
                    await events.ChangedAsync(lost);
                }
            }
            else await RescheduleAsync(workload.WorkloadId, "its node is down", "lost", cancellationToken);
        }
    }

    /// <summary>Moves a node's workloads away: those that may restart go to other nodes, the rest are stopped.</summary>
    public async Task<(List<string> Moved, List<string> Stopped)> DrainAsync(Guid nodeId, string requestedBy, CancellationToken cancellationToken)
    {
        var (moved, stopped) = (new List<string>(), new List<string>());
        foreach (var workload in await store.OnNodeAsync(nodeId, cancellationToken))
        {
            if (workload.RestartPolicy != "never" && workload.DesiredState == "running"
                && await RescheduleAsync(workload.WorkloadId, "its node is draining", workload.VmState, cancellationToken) is { } placed
                && placed.NodeId != nodeId)
            {
                moved.Add(workload.WorkloadId.ToString());
                continue;
            }
            if (WorkloadTransitions.Allows(WorkloadTransitions.Stop, workload.VmState, workload.TaskState))
                await ActAsync(workload.WorkloadId, WorkloadTransitions.Stop, requestedBy, cancellationToken);
            stopped.Add(workload.WorkloadId.ToString());
        }
        return (moved, stopped);
    }

    async Task<WorkloadRecord?> RescheduleAsync(Guid workloadId, string reason, string stuckState, CancellationToken cancellationToken)
    {
        if (await store.RescheduleAsync(workloadId, reason, stuckState, clock.GetUtcNow(), cancellationToken) is not { } result) return null;
        logger.LogWarning("Workload {WorkloadId} rescheduled ({Reason}): {Outcome}", workloadId, reason,
            result.Operation.Status == "failed" ? result.Operation.Error : $"now on node {result.Workload.NodeId}");
        if (result.Operation.Status == "failed") await events.FinishedAsync(result.Workload, result.Operation);
        else await events.AcceptedAsync(result.Workload, result.Operation, result.From);
        return result.Workload;
    }
}
