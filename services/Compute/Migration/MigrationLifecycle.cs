using Platform.Compute.V1;
using Platform.Compute.Workloads;

namespace Platform.Compute.Migration;

/// <summary>Every change to a migration goes through here: the store commits, then the event goes out and wakes both agents.</summary>
public sealed class MigrationLifecycle(
    MigrationStore store, MigrationEvents events, WorkloadEvents workloadEvents, TimeProvider clock, ILogger<MigrationLifecycle> logger)
{
    public async Task<(WorkloadRecord Workload, OperationRecord Operation, MigrationRecord Migration)?> BeginAsync(
        Guid workloadId, Guid? targetNodeId, string type, int compressionLevel, long bandwidthLimit, string requestedBy, CancellationToken cancellationToken)
    {
        if (await store.BeginAsync(workloadId, targetNodeId, type, compressionLevel, bandwidthLimit, requestedBy, clock.GetUtcNow(), cancellationToken) is not { } begun)
            return null;
        logger.LogInformation("Workload {WorkloadId}: {Type} migration {MigrationId} from node {SourceNodeId} to node {TargetNodeId} requested by {RequestedBy}",
            workloadId, type, begun.Migration.MigrationId, begun.Migration.SourceNodeId, begun.Migration.TargetNodeId, requestedBy);
        await events.PublishAsync("started", begun.Migration, begun.Workload, null);
        return begun;
    }

    /// <summary>The source agent's report; returns the migration as it stands after it, null when there is no such migration.</summary>
    public async Task<MigrationRecord?> ReportAsync(Guid nodeId, Guid migrationId, MigrationReport report, CancellationToken cancellationToken)
    {
        if (await store.ReportAsync(nodeId, migrationId, report, clock.GetUtcNow(), cancellationToken) is not { } result) return null;
        if (!result.Changed) return result.Migration;
        var type = result.Migration.Phase switch { MigrationPhases.Precopy or MigrationPhases.FinalCopy => "progress", var phase => phase };
        if (type != "progress")
            logger.Log(type == MigrationPhases.Failed ? LogLevel.Warning : LogLevel.Information, "Migration {MigrationId} of workload {WorkloadId}: {Phase}{Error}",
                migrationId, result.Migration.WorkloadId, result.Migration.Phase, result.Migration.Error == "" ? "" : $" ({result.Migration.Error})");
        await events.PublishAsync(type, result.Migration, result.Workload, result.Finished);
        return result.Migration;
    }

    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> AbortAsync(Guid migrationId, string requestedBy, CancellationToken cancellationToken)
    {
        if (await store.AbortAsync(migrationId, requestedBy, clock.GetUtcNow(), cancellationToken) is not { } aborted) return null;
        logger.LogInformation("Migration {MigrationId} of workload {WorkloadId} aborted by {RequestedBy}", migrationId, aborted.Workload.WorkloadId, requestedBy);
        await events.PublishAsync(MigrationPhases.Aborted, aborted.Migration, aborted.Workload, aborted.Finished);
        return aborted;
    }

    /// <summary>The target went Down after the handover: the workload goes back to its source. False when it had no such migration.</summary>
    public async Task<bool> ReturnFromDownTargetAsync(Guid workloadId, Guid downNodeId, CancellationToken cancellationToken)
    {
        if (await store.ReturnFromDownTargetAsync(workloadId, downNodeId, clock.GetUtcNow(), cancellationToken) is not { } back) return false;
        logger.LogWarning("Workload {WorkloadId} goes back to node {SourceNodeId}: node {NodeId}, its migration target, is down", workloadId, back.Migration.SourceNodeId, downNodeId);
        await events.PublishAsync(MigrationPhases.Failed, back.Migration, back.Workload, back.Finished);
        if (back.Finished is not null) await workloadEvents.FinishedAsync(back.Workload, back.Finished);
        return true;
    }

    /// <summary>After an agent's report finished a migrate operation: the migration's own event, with its final phase.</summary>
    public async Task SettledAsync(WorkloadRecord workload, OperationRecord finished, CancellationToken cancellationToken)
    {
        if ((await store.ListAsync(workload.WorkloadId, activeOnly: false, cancellationToken)).FirstOrDefault() is { } migration)
            await events.PublishAsync(migration.Phase, migration, workload, finished);
    }
}
