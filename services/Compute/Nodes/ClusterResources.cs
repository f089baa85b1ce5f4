using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.Telemetry.V1;

namespace Platform.Compute.Nodes;

/// <summary>
/// The resources summary: capacity from the nodes' registrations, reserved from their workloads, used from the newest
/// samples each node's agent sent Telemetry (node_cpu_usage_percent, node_memory_total_bytes − node_memory_available_bytes).
/// </summary>
public sealed class ClusterResources(NodeStore nodes, MetricQueries.MetricQueriesClient telemetry, IOptions<NodeLeaseOptions> leases, TimeProvider clock)
{
    public async Task<ResourcesSummary> SummarizeAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var listed = await nodes.ListAsync(cancellationToken);
        var used = await Task.WhenAll(listed.Select(node => UsageAsync(node, cancellationToken)));
        var summary = new ResourcesSummary { Capacity = new NodeCapacity(), Reserved = new NodeResources(), Used = new ResourceUsage() };
        double cpuWeighted = 0;
        var measuredCores = 0;
        for (var i = 0; i < listed.Count; i++)
        {
            var (node, usage) = (listed[i], used[i]);
            var status = node.Status(now, leases.Value);
            summary.Nodes.Add(new NodeResourceSummary
            {
                NodeId = node.NodeId.ToString(), Name = node.Name, Status = status, Capacity = node.Capacity, Reserved = node.Reserved ?? new NodeResources(), Used = usage,
            });
            if (status != NodeStatuses.Ready) continue;
            summary.Capacity.CpuCores += node.Capacity.CpuCores;
            summary.Capacity.MemoryBytes += node.Capacity.MemoryBytes;
            summary.Capacity.GpuCount += node.Capacity.GpuCount;
            summary.Capacity.DiskBytes += node.Capacity.DiskBytes;
            summary.Reserved.CpuMillis += node.Reserved?.CpuMillis ?? 0;
            summary.Reserved.MemoryBytes += node.Reserved?.MemoryBytes ?? 0;
            summary.Reserved.GpuCount += node.Reserved?.GpuCount ?? 0;
            if (!usage.Measured) continue;
            cpuWeighted += usage.CpuPercent * node.Capacity.CpuCores;
            measuredCores += node.Capacity.CpuCores;
            summary.Used.MemoryUsedBytes += usage.MemoryUsedBytes;
            summary.Used.MeasuredAtMs = Math.Max(summary.Used.MeasuredAtMs, usage.MeasuredAtMs);
        }
        summary.Used.Measured = measuredCores > 0;
        summary.Used.CpuPercent = measuredCores > 0 ? Math.Round(cpuWeighted / measuredCores, 1) : 0;
        if (!summary.Used.Measured) summary.Used.Reason = "no Ready node has recent samples in Telemetry";
        return summary;
    }

    async Task<ResourceUsage> UsageAsync(NodeRecord node, CancellationToken cancellationToken)
    {
        try
        {
            var latest = await telemetry.LatestValuesAsync(new LatestValuesRequest { AgentId = node.Name },
                deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken);
            Point? Newest(string name) => latest.Series.FirstOrDefault(s => s.Name == name && (!s.Labels.TryGetValue("node", out var n) || n == node.Name))?.Points.LastOrDefault();
            var (cpu, total, available) = (Newest("node_cpu_usage_percent"), Newest("node_memory_total_bytes"), Newest("node_memory_available_bytes"));
            if (cpu is null || total is null || available is null)
                return new ResourceUsage { Reason = "Telemetry has no samples of the node from the last 5 minutes" };
            return new ResourceUsage
            {
                Measured = true, CpuPercent = Math.Round(cpu.Value, 1), MemoryUsedBytes = (long)(total.Value - available.Value),
                MeasuredAtMs = new[] { cpu.TimestampMs, total.TimestampMs, available.TimestampMs }.Max(),
            };
        }
        catch (RpcException ex)
        {
            return new ResourceUsage { Reason = $"Telemetry did not answer: {ex.Status.Detail}" };
        }
    }
}
