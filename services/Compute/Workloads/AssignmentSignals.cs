using System.Collections.Concurrent;
using System.Text.Json;
using Platform.ServiceDefaults.Cache;
using StackExchange.Redis;

namespace Platform.Compute.Workloads;

/// <summary>
/// Tells the agents' watch streams when their node's assignments changed. Every change is published on
/// <c>platform.events.workloads</c> with the node it concerns; each Compute replica listens there and wakes the
/// watchers of that node, so an agent connected to any replica hears of a change made on any other. When the
/// subscription comes back after Redis was away, every watcher is woken.
/// </summary>
public sealed class AssignmentSignals(IConnectionMultiplexer cache, ILogger<AssignmentSignals> logger) : IHostedService
{
    readonly ConcurrentDictionary<Guid, TaskCompletionSource> next = new();

    /// <summary>A task that completes at the next change of the node's assignments after this call.</summary>
    public Task NextChange(Guid nodeId) => next.GetOrAdd(nodeId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Signal(Guid nodeId)
    {
        if (next.TryRemove(nodeId, out var waiting)) waiting.TrySetResult();
    }

    /// <summary>Wakes every watcher: changes published while Redis was away were never heard, so each re-reads its node.</summary>
    void SignalAll(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        foreach (var nodeId in next.Keys) Signal(nodeId);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        cache.ConnectionRestored += SignalAll;
        await cache.SubscribeEventsAsync("workloads", (_, message) =>
        {
            try
            {
                var data = JsonDocument.Parse(message.ToString()).RootElement.GetProperty("data");
                foreach (var property in new[] { "nodeId", "previousNodeId" })
                    if (data.TryGetProperty(property, out var node) && Guid.TryParse(node.GetString(), out var nodeId))
                        Signal(nodeId);
            }
            catch (JsonException ex)
            {
                logger.LogWarning("Unreadable workload event: {Reason}", ex.Message);
            }
        });
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        cache.ConnectionRestored -= SignalAll;
        return cache.UnsubscribeEventsAsync("workloads");
    }
}
