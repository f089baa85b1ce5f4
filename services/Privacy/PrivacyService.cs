using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Privacy.Deployment;
using Platform.Privacy.Relays;
using Platform.Privacy.Entry;
using Platform.Privacy.V1;
using Platform.ServiceDefaults.Auth;

namespace Platform.Privacy;

/// <summary>The onion network's API: the directory (Directory/), relay deployment and measurements (Deployment/), the entry's circuits (Entry/).</summary>
public sealed class PrivacyService(
    RelayStore relays, ConsensusStore consensus, DirectoryAuthority authority, RelayDeployment deployment, RelayMeasurements measurements,
    OnionEntry entry, TimeProvider clock) : V1.Privacy.PrivacyBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListRelaysResponse> ListRelays(ListRelaysRequest request, ServerCallContext context) =>
        new() { Relays = { (await relays.ListAsync(context.CancellationToken)).Select(r => r.ToMessage()) } };

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<SignedConsensus> GetConsensus(GetConsensusRequest request, ServerCallContext context)
    {
        return await consensus.LatestSignedAsync(authority.PublicKey, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<BetanetStatus> GetBetanetStatus(GetBetanetStatusRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var all = await relays.ListAsync(ct);
        string[] metrics = ["relay_connections", "relay_circuits", "relay_cells_relayed_total", "relay_bytes_relayed_total",
            "relay_extend_latency_seconds", "relay_protocol_violations_total", "relay_exit_bytes_total"];
        var measured = (await Task.WhenAll(metrics.Select(m => measurements.LatestByNodeAsync(m, ct)))).Zip(metrics).ToDictionary(m => m.Second, m => m.First);
        double? Value(string metric, string node) => measured[metric].TryGetValue(node, out var v) ? v : null;
        var status = new BetanetStatus { Total = all.Count(r => r.Enabled), Running = all.Count(r => r.Flags.Contains("Running")) };
        foreach (var relay in all.Where(r => r.Enabled))
        {
            var row = new RelayStatus { Relay = relay.ToMessage() };
            if (Value("relay_connections", relay.Node) is { } connections) row.Connections = connections;
            if (Value("relay_circuits", relay.Node) is { } circuits) row.Circuits = circuits;
            if (Value("relay_cells_relayed_total", relay.Node) is { } cells) row.CellsRelayed = cells;
            if (Value("relay_bytes_relayed_total", relay.Node) is { } bytes) row.BytesRelayed = bytes;
            if (Value("relay_extend_latency_seconds", relay.Node) is { } latency) row.ExtendLatencyMs = latency * 1000;
            if (Value("relay_protocol_violations_total", relay.Node) is { } violations) row.ProtocolViolations = violations;
            if (Value("relay_exit_bytes_total", relay.Node) is { } exit) row.ExitBytes = exit;
            status.Relays.Add(row);
        }
        if (await consensus.LatestAsync(ct) is { } latest)
        {
            status.ConsensusValidAfterMs = latest.ValidAfter.ToUnixTimeMilliseconds();
            status.ConsensusFreshUntilMs = latest.FreshUntil.ToUnixTimeMilliseconds();
            status.ConsensusValidUntilMs = latest.ValidUntil.ToUnixTimeMilliseconds();
        }
        return status;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<DeployRelayResponse> DeployRelay(DeployRelayRequest request, ServerCallContext context)
    {
        var (relay, chosen) = await deployment.DeployAsync(request.Node, request.ExitPolicy, context.Caller(), context.CancellationToken);
        return new DeployRelayResponse { Relay = relay.ToMessage(), Chosen = chosen };
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<RetireRelayResponse> RetireRelay(RetireRelayRequest request, ServerCallContext context) =>
        new() { Relay = (await deployment.RetireAsync(request.Node, context.CancellationToken)).ToMessage() };

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<CircuitStats> GetCircuitStats(GetCircuitStatsRequest request, ServerCallContext context)
    {
        var stats = entry.Client.Stats();
        var response = new CircuitStats
        {
            Built = stats.Built, Failed = stats.Failed, Active = stats.Active, BytesSent = stats.BytesSent, BytesReceived = stats.BytesReceived,
            SocksAddress = entry.SocksEndpoint?.ToString() ?? "",
        };
        if (stats.BuildP50Seconds is { } p50) response.BuildP50Ms = p50 * 1000;
        if (stats.BuildP95Seconds is { } p95) response.BuildP95Ms = p95 * 1000;
        return Task.FromResult(response);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<ListCircuitsResponse> ListCircuits(ListCircuitsRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var response = new ListCircuitsResponse();
        response.Circuits.AddRange(entry.Client.Circuits.Where(c => c.State != "closed").OrderBy(c => c.CreatedAt).Select(c => new V1.Circuit
        {
            Id = c.Id.ToString("x8"), State = c.State, Hops = { c.Path.Select(h => h.Nickname) }, AgeSeconds = (now - c.CreatedAt).TotalSeconds,
            BytesSent = c.BytesSent, BytesReceived = c.BytesReceived, Streams = c.StreamCount, BuildMs = c.BuildTime.TotalMilliseconds,
        }));
        return Task.FromResult(response);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<P2PStats> GetP2PStats(GetP2PStatsRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var byEndpoint = (await relays.ListAsync(ct)).Where(r => r.Address is not null && r.Port is not null)
            .GroupBy(r => $"{r.Address}:{r.Port}").ToDictionary(g => g.Key, g => g.First().Node);
        var cells = await measurements.LatestAsync("relay_link_cells_total", ["node", "peer"], ct);
        var stats = new P2PStats();
        foreach (var (labels, value) in cells.OrderBy(c => c.Labels["node"], StringComparer.Ordinal).ThenBy(c => c.Labels["peer"], StringComparer.Ordinal))
            stats.Links.Add(new P2PLink
            {
                FromNode = labels["node"], ToNode = byEndpoint.GetValueOrDefault(labels["peer"], labels["peer"]), Kind = "relay",
                Messages = value, Bytes = value * Onion.Cells.Size,
            });
        stats.Peers = stats.Links.SelectMany(l => new[] { l.FromNode, l.ToNode }).Distinct().Count();
        stats.Messages = stats.Links.Sum(l => l.Messages);
        stats.Bytes = stats.Links.Sum(l => l.Bytes);
        return stats;
    }
}
