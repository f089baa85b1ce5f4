using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>Every change to a migration goes through here: the store commits, then the event goes out and wakes both agents.</summary>
public sealed class MigrationLifecycle(WorkloadStore store, WorkloadEvents events, TimeProvider clock, ILogger<MigrationLifecycle> logger)
{
    public async Task<(WorkloadRecord Workload, OperationRecord Operation, MigrationRecord Migration)?> BeginAsync(
        Guid workloadId, Guid? targetNodeId, string type, int compressionLevel, long bandwidthLimit, string requestedBy, CancellationToken cancellationToken)
    {
        if (await store.BeginMigrationAsync(workloadId, targetNodeId, type, compressionLevel, bandwidthLimit, requestedBy, clock.GetUtcNow(), cancellationToken) is not { } begun)
            return null;
        logger.LogInformation("Workload {WorkloadId}: {Type} migration {MigrationId} from node {SourceNodeId} to node {TargetNodeId} requested by {RequestedBy}",
            workloadId, type, begun.Migration.MigrationId, begun.Migration.SourceNodeId, begun.Migration.TargetNodeId, requestedBy);
        await events.MigrationAsync("started", begun.Migration, begun.Workload, null);
        return begun;
    }

    /// <summary>The source agent's report; returns the migration as it stands after it, null when there is no such migration.</summary>
    public async Task<MigrationRecord?> ReportAsync(Guid nodeId, Guid migrationId, MigrationReport report, CancellationToken cancellationToken)
    {
        if (await store.ReportMigrationAsync(nodeId, migrationId, report, clock.GetUtcNow(), cancellationToken) is not { } result) return null;
        if (!result.Changed) return result.Migration;
        var type = result.Migration.Phase switch { "precopy" or "final-copy" => "progress", var phase => phase };
        if (type != "progress")
            logger.Log(type == "failed" ? LogLevel.Warning : LogLevel.Information, "Migration {MigrationId} of workload {WorkloadId}: {Phase}{Error}",
                migrationId, result.Migration.WorkloadId, result.Migration.Phase, result.Migration.Error == "" ? "" : $" ({result.Migration.Error})");
        await events.MigrationAsync(type, result.Migration, result.Workload, result.Finished);
        return result.Migration;
    }

    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> AbortAsync(Guid migrationId, string requestedBy, CancellationToken cancellationToken)
    {
        if (await store.AbortMigrationAsync(migrationId, requestedBy, clock.GetUtcNow(), cancellationToken) is not { } aborted) return null;
        logger.LogInformation("Migration {MigrationId} of workload {WorkloadId} aborted by {RequestedBy}", migrationId, aborted.Workload.WorkloadId, requestedBy);
        await events.MigrationAsync("aborted", aborted.Migration, aborted.Workload, aborted.Finished);
        return aborted;
    }
}
