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
        ["nodes"] = await ServiceReads.SectionAsync(reads.ResourcesAsync, summary => new JsonArray([.. summary.Nodes.Select(NodeStats)]), ct),
    };

    static JsonNode NodeStats(NodeResourceSummary node)
    {
        var used = node.Used is { Measured: true } measured ? measured : null;
        return new JsonObject
        {
            ["nodeId"] = node.NodeId, ["name"] = node.Name, ["status"] = node.Status,
            ["cpuCores"] = node.Capacity?.CpuCores ?? 0,
            ["memoryTotalBytes"] = $"{node.Capacity?.MemoryBytes ?? 0}",
            ["diskTotalBytes"] = $"{node.Capacity?.DiskBytes ?? 0}",
            ["measured"] = used is not null,
            ["cpuPercent"] = used is null ? null : Math.Round(used.CpuPercent, 2),
            ["memoryUsedBytes"] = used is null ? null : $"{used.MemoryUsedBytes}",
            ["memoryPercent"] = used is not null && node.Capacity is { MemoryBytes: > 0 } capacity ? Math.Round(100.0 * used.MemoryUsedBytes / capacity.MemoryBytes, 2) : null,
            ["measuredAtMs"] = used is null ? null : $"{used.MeasuredAtMs}",
        };
    }

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
    /// Each node's system metrics (its newest minute, from Telemetry's seed 002 view) and each workload's use over the
    /// last minute; sent when either changed.
    /// </summary>
    public static async Task<JsonObject> MonitoringAsync(ServiceReads reads, CancellationToken ct)
    {
        var system = ServiceReads.SectionAsync(reads.SystemMetricsAsync, view => new JsonArray([.. view.Series
            .Where(s => s.Points.Count > 0)
            .GroupBy(s => s.Labels.GetValueOrDefault("node", ""))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(node =>
            {
                var metrics = new JsonObject();
                foreach (var series in node.OrderBy(s => s.Metric, StringComparer.Ordinal)) metrics[series.Metric] = Math.Round(series.Points[^1].Value, 3);
                return (JsonNode)new JsonObject { ["node"] = node.Key, ["metrics"] = metrics, ["timestampMs"] = $"{node.Max(s => s.Points[^1].TimestampMs)}" };
            })]), ct);
        var vms = ServiceReads.SectionAsync(reads.WorkloadUsageAsync, usage => new JsonArray([.. usage.Workloads.Select(w => (JsonNode)new JsonObject
        {
            ["workloadId"] = w.WorkloadId, ["workload"] = w.Workload, ["node"] = w.Node,
            ["cpuCores"] = w.HasCpuCores ? Math.Round(w.CpuCores, 4) : null, ["memoryRssBytes"] = w.HasMemoryRssBytes ? $"{w.MemoryRssBytes}" : null,
            ["ioReadBytesPerSecond"] = w.HasIoReadBytesPerSecond ? Math.Round(w.IoReadBytesPerSecond, 1) : null,
            ["ioWriteBytesPerSecond"] = w.HasIoWriteBytesPerSecond ? Math.Round(w.IoWriteBytesPerSecond, 1) : null,
            ["processes"] = w.HasProcesses ? w.Processes : null,
        })]), ct);
        return new JsonObject { ["type"] = "metrics", ["system"] = await system, ["vms"] = await vms };
    }
}
