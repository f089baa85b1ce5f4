using System.Text.Json;
using Platform.Compute.Workloads;

namespace Platform.Compute.Migration;

/// <summary>
/// <c>migration.&lt;phase&gt;</c> on <c>platform.events.workloads</c> (started, progress, starting, completed, failed,
/// aborted) with the migration, its workload and the operation it finished; both nodes' agents hear of it.
/// </summary>
public sealed class MigrationEvents(WorkloadEvents events)
{
    public Task PublishAsync(string type, MigrationRecord migration, WorkloadRecord workload, OperationRecord? finished) =>
        events.PublishAsync($"migration.{type}", new
        {
            nodeId = workload.NodeId?.ToString(),
            migration = WorkloadEvents.Json(migration.ToMessage()),
            workload = WorkloadEvents.Json(workload.ToMessage()),
            operation = finished is null ? (JsonElement?)null : WorkloadEvents.Json(finished.ToMessage()),
        }, migration.SourceNodeId, migration.TargetNodeId);
}
