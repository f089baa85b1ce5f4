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
    /// Publishes <paramref name="data"/> as <paramref name="type"/> after waking the watchers of <paramref name="nodes"/> on
    /// this replica at once; the event reaches the other replicas' watchers.
    /// </summary>
    public async Task PublishAsync(string type, object data, params Guid?[] nodes)
    {
        foreach (var node in nodes)
            if (node is { } id) signals.Signal(id);
        await events.PublishAsync("workloads", type, data);
    }

    Task PublishAsync(string type, WorkloadRecord workload, OperationRecord? operation, Guid? previousNode) =>
        PublishAsync(type, new
        {
            nodeId = workload.NodeId?.ToString(),
            previousNodeId = previousNode?.ToString(),
            workload = Json(workload.ToMessage()),
            operation = operation is null ? (JsonElement?)null : Json(operation.ToMessage()),
        }, workload.NodeId, previousNode);

    /// <summary>A message as its proto3 JSON, to nest in an event.</summary>
    public static JsonElement Json(IMessage message) => JsonDocument.Parse(JsonFormatter.Default.Format(message)).RootElement.Clone();
}
