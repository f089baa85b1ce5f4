using System.Text.Json;
using Google.Protobuf;
using Platform.ServiceDefaults.Cache;

namespace Platform.Compute.Workloads;

/// <summary>
/// Workload events on <c>platform.events.workloads</c>: what was asked (<c>workload.&lt;action&gt;</c>), how it ended
/// (<c>operation.succeeded</c>, <c>operation.failed</c>), and changes the agents saw (<c>workload.state_changed</c>).
/// Each names the node it concerns (and the node it left), which is also how agents' watch streams hear of changes.
/// </summary>
public sealed class WorkloadEvents(EventPublisher events, AssignmentSignals signals)
{
    public Task AcceptedAsync(WorkloadRecord workload, OperationRecord operation, Guid? previousNode = null) =>
        PublishAsync($"workload.{operation.Action}", workload, operation, previousNode);

    public Task FinishedAsync(WorkloadRecord workload, OperationRecord operation) =>
        PublishAsync($"operation.{operation.Status}", workload, operation, null);

    public Task ChangedAsync(WorkloadRecord workload) => PublishAsync("workload.state_changed", workload, null, null);

    /// <summary>
    /// <c>migration.&lt;phase&gt;</c> (started, progress, starting, completed, failed, aborted) with the migration, its
    /// workload and the operation it finished; both nodes' agents hear of it.
    /// </summary>
    public async Task MigrationAsync(string type, MigrationRecord migration, WorkloadRecord workload, OperationRecord? finished)
    {
        signals.Signal(migration.SourceNodeId);
        signals.Signal(migration.TargetNodeId);
        await events.PublishAsync("workloads", $"migration.{type}", new
        {
            nodeId = workload.NodeId?.ToString(),
            migration = Json(migration.ToMessage()),
            workload = Json(workload.ToMessage()),
            operation = finished is null ? (JsonElement?)null : Json(finished.ToMessage()),
        });
    }

    async Task PublishAsync(string type, WorkloadRecord workload, OperationRecord? operation, Guid? previousNode)
    {
        // This replica's own watchers hear at once; the event reaches the other replicas' watchers.
        if (workload.NodeId is { } node) signals.Signal(node);
        if (previousNode is { } previous) signals.Signal(previous);
        await events.PublishAsync("workloads", type, new
        {
            nodeId = workload.NodeId?.ToString(),
            previousNodeId = previousNode?.ToString(),
            workload = Json(workload.ToMessage()),
            operation = operation is null ? (JsonElement?)null : Json(operation.ToMessage()),
        });
    }

    static JsonElement Json(IMessage message) => JsonDocument.Parse(JsonFormatter.Default.Format(message)).RootElement.Clone();
}
