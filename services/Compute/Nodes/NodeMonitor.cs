using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;


namespace Platform.Compute.Nodes;

/// <summary>
/// Watches the leases: a node goes Ready → NotReady when its lease lapses and → Down when it stays lapsed past the grace
/// period, and back to Ready with its next heartbeat. Each change is recorded and published on
/// <c>platform.events.nodes</c> (<c>node.ready</c>, <c>node.not_ready</c>, <c>node.down</c>); a Down node's workloads are evacuated
/// (<see cref="INodeEvacuation"/>). One replica watches at a time. A lease is judged lapsed only once the database has
/// answered without a break for a lease plus the agents' longest retry (<see cref="DatabaseAvailability"/>): heartbeats
/// that could not be recorded while PostgreSQL (or Compute) was away do not make a live node Down.
/// </summary>
public sealed class NodeMonitor(
    NpgsqlDataSource db, NodeStore nodes, INodeEvacuation evacuation, EventPublisher events, IOptions<NodeLeaseOptions> leases,
    DatabaseAvailability database, TimeProvider clock, ILogger<NodeMonitor> logger) : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x6E6F6465776174; // "nodewat"

    protected override TimeSpan Interval => leases.Value.MonitorInterval;
    protected override string Description => "Checking node leases";
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var judging = database.SteadyFor(leases.Value.Duration + leases.Value.AgentRetryMax);
        foreach (var node in await nodes.ListAsync(cancellationToken))
        {
            var status = node.Status(now, leases.Value);
            // Until heartbeats could have been recorded again, a lapsed lease says nothing about the node.
            if (!judging && status != NodeStatuses.Ready) continue;
            if (status != node.RecordedStatus && await nodes.RecordStatusAsync(node.NodeId, status, now, cancellationToken))
            {
                Logger.Log(status == NodeStatuses.Ready ? LogLevel.Information : LogLevel.Warning, "Node {NodeName} ({NodeId}) is {Status} (was {Previous}; last heartbeat {LastHeartbeat:O})",
                    node.Name, node.NodeId, status, node.RecordedStatus, node.LastHeartbeatAt);
                await events.PublishAsync("nodes", status switch { NodeStatuses.Ready => "node.ready", NodeStatuses.NotReady => "node.not_ready", _ => "node.down" },
                    new { nodeId = node.NodeId, name = node.Name, status, previous = node.RecordedStatus, lastHeartbeatAt = node.LastHeartbeatAt });
            }
            // Every round, not only on the change: a replica taking over finishes what another started.
            if (status == NodeStatuses.Down) await evacuation.NodeDownAsync(node.NodeId, cancellationToken);
        }
    }
}
