using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.Queries;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Monitoring;

/// <summary>
/// Seed 002's monitoring views (<c>/api/monitoring/metrics</c>, <c>/api/monitoring/vms</c>,
/// <c>/api/vm/vms/{id}/metrics</c>): fixed sets of range queries over what the NodeAgents ship — the machine's
/// <c>node_*</c> series and each workload's <c>workload_*</c> series — under names a dashboard can show as they are.
/// </summary>
public sealed class MonitoringViewsService(RangeQueries ranges, SampleReader samples, TimeProvider clock) : MonitoringViews.MonitoringViewsBase
{
    /// <summary>A view's metric: its name and unit, the stored metric it reads, and how (avg for gauges, rate for counters).</summary>
    sealed record ViewMetric(string Metric, string Unit, string Source, string Aggregation);

    static readonly ViewMetric[] NodeMetrics =
    [
        new("cpu_percent", "percent", "node_cpu_usage_percent", "avg"),
        new("memory_used_percent", "percent", "node_memory_used_percent", "avg"),
        new("memory_available_bytes", "bytes", "node_memory_available_bytes", "avg"),
        new("network_receive_bytes_per_second", "bytes_per_second", "node_network_receive_bytes_total", "rate"),
        new("network_transmit_bytes_per_second", "bytes_per_second", "node_network_transmit_bytes_total", "rate"),
        new("disk_read_bytes_per_second", "bytes_per_second", "node_disk_read_bytes_total", "rate"),
        new("disk_write_bytes_per_second", "bytes_per_second", "node_disk_written_bytes_total", "rate"),
    ];

    static readonly ViewMetric[] WorkloadMetrics =
    [
        new("cpu_cores", "cores", "workload_cpu_seconds_total", "rate"),
        new("memory_rss_bytes", "bytes", "workload_memory_rss_bytes", "avg"),
        new("io_read_bytes_per_second", "bytes_per_second", "workload_io_read_bytes_total", "rate"),
        new("io_write_bytes_per_second", "bytes_per_second", "workload_io_write_bytes_total", "rate"),
        new("processes", "count", "workload_processes", "avg"),
    ];

    static readonly string[] WorkloadIdentity = ["workload_id", "workload", "node"];

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<MetricsView> GetSystemMetrics(SystemMetricsRequest request, ServerCallContext context)
    {
        new ServiceDefaults.Grpc.RequestValidation().Require(request.Node.Length <= 253, "node", "at most 253 characters").ThrowIfInvalid();
        return ViewAsync(NodeMetrics, request.Node == "" ? [] : [$"node={request.Node}"], ["node"], request.StartMs, request.EndMs, request.StepMs, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<MetricsView> GetWorkloadMetrics(WorkloadMetricsRequest request, ServerCallContext context)
    {
        var workloadId = ServiceDefaults.Grpc.RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        var view = await ViewAsync(WorkloadMetrics, [$"workload_id={workloadId}"], WorkloadIdentity, request.StartMs, request.EndMs, request.StepMs, context.CancellationToken);
        if (view.Series.Count == 0 && !await samples.AnySeriesAsync(WorkloadMetrics[0].Source, "workload_id", workloadId.ToString(), context.CancellationToken))
            throw new RpcException(new Status(StatusCode.NotFound, $"Telemetry holds no sample of workload {workloadId}: it never ran, or ran before the samples' retention."));
        return view;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<WorkloadUsageResponse> GetWorkloadUsage(WorkloadUsageRequest request, ServerCallContext context)
    {
        new ServiceDefaults.Grpc.RequestValidation().Require(request.Node.Length <= 253, "node", "at most 253 characters").ThrowIfInvalid();
        // One bucket: exactly the last minute, from raw samples (a rollup would round it to whole minutes); a rate also
        // sees the sample just before it.
        var end = clock.GetUtcNow();
        var view = await ViewAsync(WorkloadMetrics, request.Node == "" ? [] : [$"node={request.Node}"], WorkloadIdentity,
            (end - TimeSpan.FromMinutes(1)).ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(), 60_000, context.CancellationToken, resolution: "raw");
        var response = new WorkloadUsageResponse();
        foreach (var workload in view.Series.GroupBy(s => s.Labels.GetValueOrDefault("workload_id", "")).Where(g => g.Key != "").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // A workload that moved within the minute has a series per node: the one with the newest point is where it is.
            var current = workload.Where(s => s.Points.Count > 0).MaxBy(s => s.Points[^1].TimestampMs)?.Labels ?? workload.First().Labels;
            Point? Newest(string metric) => workload.Where(s => s.Metric == metric && s.Labels.GetValueOrDefault("node") == current.GetValueOrDefault("node"))
                .Select(s => s.Points.LastOrDefault()).FirstOrDefault(p => p is not null);
            var usage = new WorkloadUsage
            {
                WorkloadId = workload.Key, Workload = current.GetValueOrDefault("workload", ""), Node = current.GetValueOrDefault("node", ""), WindowEndMs = view.EndMs,
            };
            if (Newest("memory_rss_bytes") is { } rss) usage.MemoryRssBytes = (long)rss.Value;
            if (Newest("processes") is { } processes) usage.Processes = (int)Math.Round(processes.Value);
            if (Newest("cpu_cores") is { } cpu) usage.CpuCores = cpu.Value;
            if (Newest("io_read_bytes_per_second") is { } read) usage.IoReadBytesPerSecond = read.Value;
            if (Newest("io_write_bytes_per_second") is { } write) usage.IoWriteBytesPerSecond = write.Value;
            response.Workloads.Add(usage);
        }
        return response;
    }

    async Task<MetricsView> ViewAsync(ViewMetric[] metrics, string[] match, string[] by, long startMs, long endMs, long stepMs, CancellationToken cancellationToken,
        string resolution = "auto")
    {
        var now = clock.GetUtcNow();
        var view = new MetricsView();
        foreach (var metric in metrics)
        {
            var request = new QueryRangeRequest { Name = metric.Source, StartMs = startMs, EndMs = endMs, StepMs = stepMs, Aggregation = metric.Aggregation, Resolution = resolution };
            request.Match.AddRange(match);
            request.By.AddRange(by);
            var query = RangeQuery.From(request, now); // validates start, end and step by the request's own field names
            (view.StartMs, view.EndMs, view.StepMs) = (query.Start.ToUnixTimeMilliseconds(), query.End.ToUnixTimeMilliseconds(), (long)query.Step.TotalMilliseconds);
            foreach (var series in await ranges.RunAsync(query, cancellationToken))
            {
                var message = new MetricSeries { Metric = metric.Metric, Unit = metric.Unit };
                message.Labels.Add(series.Labels);
                message.Points.AddRange(series.Points.Select(p => new Point { TimestampMs = p.Time.ToUnixTimeMilliseconds(), Value = p.Value }));
                view.Series.Add(message);
            }
        }
        return view;
    }
}
