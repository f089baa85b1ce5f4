using System.Text.Json;
using Platform.Compute.Nodes;
using Platform.Compute.V1;

namespace Platform.Compute.Benchmarks;

/// <summary>One planned benchmark workload: a kind on a node (network: towards the peer that runs the server).</summary>
public sealed record PlannedTask(int Position, Guid NodeId, string Kind, Guid? PeerNodeId);

/// <summary>What a run does, in order, and how a benchmark workload's output becomes results.</summary>
public static class BenchmarkPlan
{
    public static readonly string[] Kinds = ["cpu", "memory", "disk", "network"];

    /// <summary>
    /// One task at a time, so no benchmark disturbs another's figures: each of CPU, memory and disk on every node, then
    /// the network from each node to the next one by name (with two nodes: both ways).
    /// </summary>
    public static IReadOnlyList<PlannedTask> Tasks(IReadOnlyList<NodeRecord> nodes, IReadOnlyCollection<string> kinds)
    {
        var ordered = nodes.OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        var tasks = new List<PlannedTask>();
        foreach (var kind in Kinds.Where(kinds.Contains))
        {
            if (kind != "network")
                tasks.AddRange(ordered.Select(node => new PlannedTask(0, node.NodeId, kind, null)));
            else if (ordered.Count >= 2)
                for (var i = 0; i < ordered.Count; i++)
                    tasks.Add(new PlannedTask(0, ordered[i].NodeId, kind, ordered[(i + 1) % ordered.Count].NodeId));
        }
        return [.. tasks.Select((task, position) => task with { Position = position })];
    }

    /// <summary>A node's address for a benchmark server: its first IPv4 address as it registered, else loopback (one machine).</summary>
    public static string AddressOf(NodeRecord node) =>
        node.Addresses.FirstOrDefault(a => System.Net.IPAddress.TryParse(a, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? "127.0.0.1";

    /// <summary>The results NodeBench printed (one JSON object per line with benchmark, value, unit, method); other lines are skipped.</summary>
    public static IReadOnlyList<(string Benchmark, double Value, string Unit, string Method)> Parse(string stdout)
    {
        var results = new List<(string, double, string, string)>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.ValueKind == JsonValueKind.Object && Text(root, "benchmark") is { Length: > 0 and <= 64 } benchmark
                    && root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
                    results.Add((benchmark, number, Text(root, "unit") ?? "", Text(root, "method") ?? ""));
            }
            catch (JsonException)
            {
            }
        }
        return results;
    }

    static string? Text(JsonElement json, string property) =>
        json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The server's <c>{"listening":"host:port"}</c>, once it printed it.</summary>
    public static (string Host, int Port)? Listening(string stdout)
    {
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.ValueKind == JsonValueKind.Object && System.Net.IPEndPoint.TryParse(Text(json.RootElement, "listening") ?? "", out var endpoint))
                    return (endpoint.Address.ToString(), endpoint.Port);
            }
            catch (JsonException)
            {
            }
        }
        return null;
    }

    /// <summary>The workload a task runs: our program only, pinned to the node, with room for its buffers; checked like any other.</summary>
    public static CreateWorkloadRequest Workload(Guid runId, Guid nodeId, string command, IEnumerable<string> args, string? token) => Workloads.WorkloadRequests.Normalize(new()
    {
        Name = $"bench-{command}-{runId.ToString("N")[..8]}",
        Driver = "benchmark",
        Command = command,
        Args = { args },
        NodeId = nodeId.ToString(),
        CpuMillis = 1000,
        MemoryBytes = 1L << 30,
        Network = WorkloadNetworks.Host,
        Labels = { ["benchmark_run"] = runId.ToString() },
        Env = { token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["BENCH_TOKEN"] = token } },
    });
}
