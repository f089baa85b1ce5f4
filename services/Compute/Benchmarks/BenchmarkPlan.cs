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

    /// <summary>What each kind measures, with its unit: anything else a workload prints is not a result.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Measures = new Dictionary<string, IReadOnlyDictionary<string, string>>
    {
        ["cpu"] = new Dictionary<string, string> { ["cpu_sha256_single"] = "bytes_per_second", ["cpu_sha256_all"] = "bytes_per_second" },
        ["memory"] = new Dictionary<string, string> { ["memory_copy"] = "bytes_per_second" },
        ["disk"] = new Dictionary<string, string>
        {
            ["disk_seq_write"] = "bytes_per_second", ["disk_seq_read"] = "bytes_per_second", ["disk_random_write"] = "iops", ["disk_random_read"] = "iops",
        },
        ["network"] = new Dictionary<string, string> { ["network_rtt_p50"] = "seconds", ["network_rtt_p99"] = "seconds", ["network_throughput"] = "bytes_per_second" },
    };

    /// <summary>
    /// The results NodeBench printed for <paramref name="kind"/> (one JSON object per line with benchmark, value, unit,
    /// method): only the kind's own measures in their own units, each once, with a finite value that is not negative;
    /// every other line is skipped.
    /// </summary>
    public static IReadOnlyList<(string Benchmark, double Value, string Unit, string Method)> Parse(string stdout, string kind)
    {
        var measures = Measures.GetValueOrDefault(kind) ?? new Dictionary<string, string>();
        var results = new List<(string Benchmark, double Value, string Unit, string Method)>();
        foreach (var root in JsonObjects(stdout))
            if (Text(root, "benchmark") is { } benchmark && measures.TryGetValue(benchmark, out var unit)
                && Text(root, "unit") == unit && results.All(r => r.Benchmark != benchmark)
                && root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
                && double.IsFinite(number) && number >= 0)
                results.Add((benchmark, number, unit, Text(root, "method") is { } method ? method[..Math.Min(method.Length, 256)] : ""));
        return results;
    }

    static string? Text(JsonElement json, string property) =>
        json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The server's <c>{"listening":"host:port"}</c>, once it printed it.</summary>
    public static (string Host, int Port)? Listening(string stdout)
    {
        foreach (var json in JsonObjects(stdout))
            if (System.Net.IPEndPoint.TryParse(Text(json, "listening") ?? "", out var endpoint)) return (endpoint.Address.ToString(), endpoint.Port);
        return null;
    }

    /// <summary>The lines of a program's output that are JSON objects, each parsed; every other line is skipped.</summary>
    static IEnumerable<JsonElement> JsonObjects(string output)
    {
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            JsonElement root;
            try
            {
                using var json = JsonDocument.Parse(line);
                root = json.RootElement.Clone();
            }
            catch (JsonException)
            {
                continue;
            }
            if (root.ValueKind == JsonValueKind.Object) yield return root;
        }
    }

    /// <summary>The workload a task runs: our program only, pinned to the node, with room for its buffers; checked like any other.</summary>
    /// <remarks>
    /// The idempotency key names the run, the task and the role: a runner that crashed between creating the workload and
    /// recording it gets the same workload again instead of a second one.
    /// </remarks>
    public static CreateWorkloadRequest Workload(Guid runId, int position, Guid nodeId, string command, IEnumerable<string> args, string? token) => Workloads.WorkloadRequests.Normalize(new()
    {
        IdempotencyKey = $"bench-{runId:N}-{position}-{command}",
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
