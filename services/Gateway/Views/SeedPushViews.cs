using System.Text.Json.Nodes;
using Platform.Compute.V1;
using Platform.Telemetry.V1;

namespace Platform.Gateway.Views;

/// <summary>
/// The messages of the seeds' other push views: seed 004's node stats (<c>/api/system/ws</c>) and workload status
/// (<c>/api/services/ws</c>), and seed 002's system and VM metrics (<c>/ws/monitoring</c>). Each is read from the
/// service that owns the data; nothing is computed here but the grouping.
/// </summary>
public static class SeedPushViews
{
    /// <summary>Each node's capacity and measured use, from Compute (which reads the use from Telemetry).</summary>
    public static async Task<JsonObject> NodeStatsAsync(ServiceReads reads, TimeProvider clock, CancellationToken ct) => new()
    {
        ["type"] = "stats",
        ["timestamp"] = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        ["nodes"] = await ServiceReads.SectionAsync(reads.ResourcesAsync, summary => new JsonArray([.. summary.Nodes.Select(node => (JsonNode)new JsonObject
        {
            ["nodeId"] = node.NodeId, ["name"] = node.Name, ["status"] = node.Status,
            ["cpuCores"] = node.Capacity?.CpuCores ?? 0,
            ["memoryTotalBytes"] = $"{node.Capacity?.MemoryBytes ?? 0}",
            ["diskTotalBytes"] = $"{node.Capacity?.DiskBytes ?? 0}",
            ["measured"] = node.Used?.Measured ?? false,
            ["cpuPercent"] = node.Used is { Measured: true } used ? Math.Round(used.CpuPercent, 2) : null,
            ["memoryUsedBytes"] = node.Used is { Measured: true } m ? $"{m.MemoryUsedBytes}" : null,
            ["memoryPercent"] = node.Used is { Measured: true } p && node.Capacity is { MemoryBytes: > 0 } c ? Math.Round(100.0 * p.MemoryUsedBytes / c.MemoryBytes, 2) : null,
            ["measuredAtMs"] = node.Used is { Measured: true } t ? $"{t.MeasuredAtMs}" : null,
        })]), ct),
    };

    /// <summary>Every workload's state as Compute holds it; the view sends it when any of them changed.</summary>
    public static async Task<JsonObject> WorkloadStatusAsync(ServiceReads reads, CancellationToken ct) => new()
    {
        ["type"] = "services",
        ["services"] = await ServiceReads.SectionAsync(reads.WorkloadsAsync, response => new JsonArray([.. response.Workloads.Select(w => (JsonNode)new JsonObject
        {
            ["workloadId"] = w.WorkloadId, ["name"] = w.Name, ["nodeId"] = w.NodeId, ["driver"] = w.Driver,
            ["status"] = w.VmState, ["powerState"] = w.PowerState, ["taskState"] = w.TaskState, ["pid"] = w.Pid, ["restarts"] = w.Restarts,
            ["exitCode"] = w.HasExitCode ? w.ExitCode : null, ["message"] = w.Message, ["updatedAtMs"] = $"{w.UpdatedAtMs}",
        })]), ct),
    };

    /// <summary>
    /// The newest value of every node (<c>node_*</c>) and workload (<c>workload_*</c>) series Telemetry holds, grouped by
    /// node and by workload; sent when a new sample arrived.
    /// </summary>
    public static async Task<JsonObject> MonitoringAsync(ServiceReads reads, CancellationToken ct)
    {
        var message = (JsonObject)await ServiceReads.SectionAsync(reads.LatestValuesAsync, response => new JsonObject
        {
            ["type"] = "metrics",
            ["system"] = Grouped(response.Series.Where(s => s.Name.StartsWith("node_", StringComparison.Ordinal) && s.Labels.ContainsKey("node")), ["node"]),
            ["vms"] = Grouped(response.Series.Where(s => s.Name.StartsWith("workload_", StringComparison.Ordinal) && s.Labels.ContainsKey("workload_id")), ["workload_id", "workload", "node"]),
        }, ct);
        message.TryAdd("type", "metrics"); // the error form: {"error", "type"}
        return message;
    }

    /// <summary>Series grouped by the <paramref name="identity"/> labels; within a group, each metric (with its other labels) and its newest value.</summary>
    static JsonArray Grouped(IEnumerable<Series> series, string[] identity) =>
        new([.. series.Where(s => s.Points.Count > 0)
            .GroupBy(s => string.Join('\u001f', identity.Select(label => s.Labels.GetValueOrDefault(label, ""))))
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group =>
            {
                var first = group.First();
                var entry = new JsonObject();
                foreach (var label in identity) entry[ToCamel(label)] = first.Labels.GetValueOrDefault(label, "");
                var metrics = new JsonObject();
                foreach (var s in group.OrderBy(s => s.Name, StringComparer.Ordinal)) metrics[Key(s, identity)] = s.Points[^1].Value;
                entry["metrics"] = metrics;
                entry["timestampMs"] = $"{group.Max(s => s.Points[^1].TimestampMs)}";
                return (JsonNode)entry;
            })]);

    /// <summary><c>name</c>, or <c>name{label="value",…}</c> with the labels that are not the group's identity.</summary>
    static string Key(Series series, string[] identity)
    {
        var rest = series.Labels.Where(l => !identity.Contains(l.Key)).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"").ToList();
        return rest.Count == 0 ? series.Name : $"{series.Name}{{{string.Join(',', rest)}}}";
    }

    static string ToCamel(string label)
    {
        var parts = label.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
