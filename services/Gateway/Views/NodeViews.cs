using System.Text.Json.Nodes;
using Platform.Compute.V1;

namespace Platform.Gateway.Views;

/// <summary>
/// Seed 000's per-node views: <c>/api/performance</c> (each node's newest benchmark results beside its live use) and
/// <c>/api/network</c> (each node's addresses and per-interface traffic, and the round trip and throughput between
/// nodes as the network benchmark measured them, with when). Composed from Compute and Telemetry; nothing estimated.
/// </summary>
public static class NodeViews
{
    public static async Task<JsonObject> PerformanceAsync(ServiceReads reads, CancellationToken ct)
    {
        var resourcesRead = ServiceReads.TryAsync(reads.ResourcesAsync, ct);
        var benchmarksRead = ServiceReads.TryAsync(reads.LatestBenchmarksAsync, ct);
        var (resources, resourcesError) = await resourcesRead;
        var (benchmarks, benchmarksError) = await benchmarksRead;
        if (resources is null) return new JsonObject { ["nodes"] = resourcesError };
        var nodes = new JsonArray();
        foreach (var node in resources.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
            nodes.Add(new JsonObject
            {
                ["nodeId"] = node.NodeId, ["name"] = node.Name, ["status"] = node.Status,
                ["utilisation"] = PlatformSummary.Usage(node.Used),
                ["benchmarks"] = benchmarks is null
                    ? benchmarksError!.DeepClone()
                    : new JsonArray([.. benchmarks.Latest.Where(r => r.NodeId == node.NodeId && r.PeerNodeId == "").OrderBy(r => r.Benchmark, StringComparer.Ordinal).Select(Result)]),
            });
        return new JsonObject { ["nodes"] = nodes };
    }

    public static async Task<JsonObject> NetworkAsync(ServiceReads reads, CancellationToken ct)
    {
        var registryRead = ServiceReads.TryAsync(reads.NodesAsync, ct);
        var receiveRead = ServiceReads.TryAsync(c => reads.InterfaceRatesAsync("receive", c), ct);
        var transmitRead = ServiceReads.TryAsync(c => reads.InterfaceRatesAsync("transmit", c), ct);
        var benchmarksRead = ServiceReads.TryAsync(reads.LatestBenchmarksAsync, ct);
        var (registry, registryError) = await registryRead;
        var (receive, receiveError) = await receiveRead;
        var (transmit, _) = await transmitRead;
        var (benchmarks, benchmarksError) = await benchmarksRead;
        if (registry is null) return new JsonObject { ["nodes"] = registryError };

        var names = registry.Nodes.ToDictionary(n => n.NodeId, n => n.Name);
        var nodes = new JsonArray();
        foreach (var node in registry.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var interfaces = new JsonObject();
            foreach (var (direction, rates) in new[] { ("receiveBytesPerSecond", receive), ("transmitBytesPerSecond", transmit) })
                foreach (var series in rates?.Series.Where(s => s.Labels.GetValueOrDefault("node") == node.Name && s.Points.Count > 0) ?? [])
                {
                    var name = series.Labels.GetValueOrDefault("interface", "");
                    if (interfaces[name] is not JsonObject entry) interfaces[name] = entry = new JsonObject();
                    entry[direction] = Math.Round(series.Points[^1].Value, 1);
                }
            nodes.Add(new JsonObject
            {
                ["nodeId"] = node.NodeId, ["name"] = node.Name, ["hostname"] = node.Hostname, ["status"] = node.Status,
                ["addresses"] = new JsonArray([.. node.Addresses.Select(a => (JsonNode)a)]),
                ["interfaces"] = receive is null ? receiveError!.DeepClone() : interfaces,
            });
        }
        JsonNode links = benchmarksError ?? (JsonNode)new JsonArray();
        foreach (var link in (benchmarks?.Latest ?? []).Where(r => r.PeerNodeId != "").GroupBy(r => (r.NodeId, r.PeerNodeId)).OrderBy(g => g.Key))
        {
            var entry = new JsonObject
            {
                ["from"] = names.GetValueOrDefault(link.Key.NodeId, link.Key.NodeId), ["to"] = names.GetValueOrDefault(link.Key.PeerNodeId, link.Key.PeerNodeId),
                ["fromNodeId"] = link.Key.NodeId, ["toNodeId"] = link.Key.PeerNodeId, ["measuredAtMs"] = $"{link.Max(r => r.MeasuredAtMs)}",
            };
            foreach (var result in link) entry[Camel(result.Benchmark)] = result.Value;
            ((JsonArray)links).Add(entry);
        }
        return new JsonObject
        {
            ["nodes"] = nodes,
            ["links"] = links,
            ["linksMeasuredBy"] = "the network benchmark (POST /api/benchmarks/start with kinds [\"network\"]): round trip p50/p99 in seconds, throughput in bytes per second",
        };
    }

    static JsonNode Result(BenchmarkResult result) => new JsonObject
    {
        ["benchmark"] = result.Benchmark, ["value"] = result.Value, ["unit"] = result.Unit, ["measuredAtMs"] = $"{result.MeasuredAtMs}", ["runId"] = result.RunId,
    };

    /// <summary>network_rtt_p50 → networkRttP50.</summary>
    static string Camel(string name)
    {
        var parts = name.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
