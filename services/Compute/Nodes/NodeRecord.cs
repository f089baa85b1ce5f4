using System.Text.Json;
using Google.Protobuf;
using Platform.Compute.V1;

namespace Platform.Compute.Nodes;

/// <summary>A node as stored, and how its lease turns into a status.</summary>
public sealed record NodeRecord(
    Guid NodeId,
    string Name,
    string Hostname,
    string[] Addresses,
    NodeCapacity Capacity,
    Dictionary<string, string> Labels,
    string AgentVersion,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeatAt,
    bool Schedulable = true,
    string CordonReason = "",
    bool Draining = false,
    string Admission = NodeAdmissions.Admitted,
    IReadOnlyList<DriverInfo>? Drivers = null,
    NodeResources? Reserved = null,
    string RecordedStatus = NodeStatuses.Ready,
    string AgentUrl = "")
{
    public DateTimeOffset LeaseExpiresAt(TimeSpan lease) => LastHeartbeatAt + lease;

    /// <summary>Ready while the lease holds; NotReady once it lapses; Down when it has lapsed for longer than <paramref name="downAfter"/>.</summary>
    public string Status(DateTimeOffset now, TimeSpan lease, TimeSpan downAfter) =>
        now < LeaseExpiresAt(lease) ? NodeStatuses.Ready : now < LeaseExpiresAt(lease) + downAfter ? NodeStatuses.NotReady : NodeStatuses.Down;

    public string Status(DateTimeOffset now, NodeLeaseOptions leases) => Status(now, leases.Duration, leases.DownAfter);

    public Node ToMessage(DateTimeOffset now, NodeLeaseOptions leases)
    {
        var node = new Node
        {
            NodeId = NodeId.ToString(),
            Name = Name,
            Hostname = Hostname,
            Capacity = Capacity,
            AgentVersion = AgentVersion,
            Status = Status(now, leases),
            RegisteredAtMs = RegisteredAt.ToUnixTimeMilliseconds(),
            LastHeartbeatAtMs = LastHeartbeatAt.ToUnixTimeMilliseconds(),
            LeaseExpiresAtMs = LeaseExpiresAt(leases.Duration).ToUnixTimeMilliseconds(),
            Schedulable = Schedulable && !Draining,
            CordonReason = CordonReason,
            Draining = Draining,
            Admission = Admission,
            Reserved = Reserved ?? new NodeResources(),
            AgentUrl = AgentUrl,
        };
        node.Addresses.AddRange(Addresses);
        node.Labels.Add(Labels);
        node.Drivers.AddRange(Drivers ?? []);
        return node;
    }

    public static string DriversJson(IEnumerable<DriverInfo> drivers) =>
        JsonSerializer.Serialize(drivers.Select(d => JsonFormatter.Default.Format(d)).Select(j => JsonDocument.Parse(j).RootElement));

    public static List<DriverInfo> ParseDrivers(string json) =>
        [.. JsonDocument.Parse(json).RootElement.EnumerateArray().Select(d => DriverInfo.Parser.ParseJson(d.GetRawText()))];
}
