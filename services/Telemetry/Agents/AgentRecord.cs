using Google.Protobuf.WellKnownTypes;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Agents;

/// <summary>What an agent says about itself when it registers; empty fields are unknown.</summary>
public sealed record AgentRegistration(
    string AgentId, string Node = "", string Hostname = "", string Provider = "", string Region = "", string Version = "",
    Dictionary<string, string>? Labels = null)
{
    public Dictionary<string, string> Labels { get; init; } = Labels ?? [];
}

/// <summary>An agent as the registry sees it: what it registered and what it sent.</summary>
public sealed record AgentRecord(
    string AgentId, string Node, string Hostname, string Provider, string Region, string Version, Dictionary<string, string> Labels,
    DateTimeOffset? RegisteredAt, DateTimeOffset? LastSeenAt, long Batches, long Samples, long LastSequence,
    DateTimeOffset? FirstBatchAt, DateTimeOffset? LastBatchAt)
{
    public static readonly TimeSpan OnlineWithin = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan StaleWithin = TimeSpan.FromMinutes(5);

    public string Status(DateTimeOffset now) => LastSeenAt is not { } seen ? "offline"
        : now - seen <= OnlineWithin ? "online"
        : now - seen <= StaleWithin ? "stale"
        : "offline";

    public Agent ToMessage(DateTimeOffset now)
    {
        var agent = new Agent
        {
            AgentId = AgentId, Node = Node, Hostname = Hostname, Provider = Provider, Region = Region, Version = Version,
            Status = Status(now),
            RegisteredAtMs = RegisteredAt?.ToUnixTimeMilliseconds() ?? 0,
            LastSeenAtMs = LastSeenAt?.ToUnixTimeMilliseconds() ?? 0,
        };
        agent.Labels.Add(Labels);
        return agent;
    }

    public AgentStats ToStats() => new()
    {
        AgentId = AgentId, Batches = Batches, Samples = Samples, LastSequence = (ulong)LastSequence,
        FirstBatchAtMs = FirstBatchAt?.ToUnixTimeMilliseconds() ?? 0,
        LastBatchAtMs = LastBatchAt?.ToUnixTimeMilliseconds() ?? 0,
    };
}
