using Platform.Telemetry.V1;

namespace Platform.Tokenomics.Rewards;

/// <summary>
/// What each node's workloads used in an epoch, from Telemetry's per-workload series: CPU-seconds are the increase of
/// <c>workload_cpu_seconds_total</c>, memory the per-minute sums of <c>workload_memory_rss_bytes</c> over the epoch, in
/// GiB-hours, relayed bytes the increase of the onion relay's <c>relay_bytes_relayed_total</c>, in GiB. Nodes with none
/// of these in the epoch are absent.
/// </summary>
public sealed class ContributedWork(MetricQueries.MetricQueriesClient telemetry)
{
    const double GiB = 1024d * 1024 * 1024;
    static readonly TimeSpan MemoryStep = TimeSpan.FromMinutes(1);
    /// <summary>Compute's limits on one node's capacity: 100,000 cores and 1 PiB.</summary>
    const double MaxCores = 100_000, MaxMemoryGib = 1024 * 1024;
    /// <summary>A relay's cap: a 100 Gbit/s link busy all epoch, the most any of today's nodes could relay.</summary>
    const double MaxRelayGibPerSecond = 100d / 8 * 1e9 / GiB;

    public async Task<IReadOnlyList<NodeWork>> MeasureAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var cpu = await QueryAsync("workload_cpu_seconds_total", "increase", start, end, end - start, cancellationToken);
        var memory = await QueryAsync("workload_memory_rss_bytes", "sum", start, end, MemoryStep, cancellationToken);
        var relayed = await QueryAsync("relay_bytes_relayed_total", "increase", start, end, end - start, cancellationToken);
        // An agent reports its own usage: whatever it claims, no node is paid past Compute's largest possible node busy all epoch.
        var seconds = (end - start).TotalSeconds;
        return [.. cpu.Keys.Union(memory.Keys).Union(relayed.Keys).Order(StringComparer.Ordinal).Select(node => new NodeWork(node,
            Math.Min(cpu.GetValueOrDefault(node), MaxCores * seconds),
            Math.Min(memory.GetValueOrDefault(node) * MemoryStep.TotalSeconds / GiB / 3600, MaxMemoryGib * seconds / 3600),
            Math.Min(relayed.GetValueOrDefault(node) / GiB, MaxRelayGibPerSecond * seconds)))];
    }

    async Task<Dictionary<string, double>> QueryAsync(string metric, string aggregation, DateTimeOffset start, DateTimeOffset end, TimeSpan step,
        CancellationToken cancellationToken)
    {
        var response = await telemetry.QueryRangeAsync(new QueryRangeRequest
        {
            Name = metric, Aggregation = aggregation, By = { "node" }, StartMs = start.ToUnixTimeMilliseconds(), EndMs = end.ToUnixTimeMilliseconds(),
            StepMs = (long)step.TotalMilliseconds, Resolution = "raw",
        }, cancellationToken: cancellationToken);
        return response.Series
            .Where(s => s.Labels.TryGetValue("node", out var node) && node != "")
            .GroupBy(s => s.Labels["node"])
            .ToDictionary(g => g.Key, g => g.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Value) && p.Value > 0).Sum(p => p.Value));
    }
}
