using Google.Protobuf.Collections;
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
    DateTimeOffset LastHeartbeatAt)
{
    public DateTimeOffset LeaseExpiresAt(TimeSpan lease) => LastHeartbeatAt + lease;

    public string Status(DateTimeOffset now, TimeSpan lease) => now < LeaseExpiresAt(lease) ? "Ready" : "NotReady";

    public Node ToMessage(DateTimeOffset now, TimeSpan lease)
    {
        var node = new Node
        {
            NodeId = NodeId.ToString(),
            Name = Name,
            Hostname = Hostname,
            Capacity = Capacity,
            AgentVersion = AgentVersion,
            Status = Status(now, lease),
            RegisteredAtMs = RegisteredAt.ToUnixTimeMilliseconds(),
            LastHeartbeatAtMs = LastHeartbeatAt.ToUnixTimeMilliseconds(),
            LeaseExpiresAtMs = LeaseExpiresAt(lease).ToUnixTimeMilliseconds(),
        };
        node.Addresses.AddRange(Addresses);
        node.Labels.Add(Labels);
        return node;
    }
}

static class MapFieldExtensions
{
    public static Dictionary<string, string> ToDictionary(this MapField<string, string> map) => new(map);
}
