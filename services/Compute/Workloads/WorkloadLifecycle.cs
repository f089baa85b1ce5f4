using Npgsql;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>
/// Callers' changes to workloads go through here: the store commits, then the events go out (and with them the
/// agents' wake-up calls). Agents' reports, migrations and evacuations have their own lifecycles beside this one.
/// </summary>
public sealed class WorkloadLifecycle(WorkloadStore store, WorkloadEvents events, TimeProvider clock, ILogger<WorkloadLifecycle> logger)
{
    public async Task<(WorkloadRecord Workload, OperationRecord Operation)> CreateAsync(CreateWorkloadRequest request, string owner, CancellationToken cancellationToken,
        Func<NpgsqlTransaction, Guid, Task>? alsoRecord = null)
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
        CancellationToken cancellationToken, WorkloadChange? change = null)
    {
        var result = await store.ApplyAsync(workloadId, action, change ?? WorkloadChange.None, requestedBy, clock.GetUtcNow(), cancellationToken);
        if (result is not { } done) return null;
        logger.LogInformation("Workload {WorkloadId}: {Action} by {RequestedBy}", workloadId, action.Name, requestedBy);
        if (done.Operation.Status == OperationStatuses.Running) await events.AcceptedAsync(done.Workload, done.Operation);
        else await events.FinishedAsync(done.Workload, done.Operation);
        return done;
    }
}
