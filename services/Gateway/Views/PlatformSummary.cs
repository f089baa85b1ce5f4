using System.Globalization;
using System.Text.Json.Nodes;
using Platform.Compute.V1;
using Platform.Telemetry.V1;

namespace Platform.Gateway.Views;

/// <summary>
/// Seed 003's summary of the whole platform (<c>/api/dashboard/stats</c>, <c>/ws/metrics</c>; seed 000's
/// <c>/api/dashboard/metrics</c>): each service's section holds the figures that service has — read from it now, never
/// filled in — under the seed's names where the seed has one. A figure nothing has measured yet is absent, never 0; a service that does not answer gives <c>{"error"}</c> in its place. 64-bit figures are
/// strings, as everywhere in the API.
/// </summary>
public static class PlatformSummary
{
    public static async Task<JsonObject> ComposeAsync(ServiceReads reads, TimeProvider clock, CancellationToken ct)
    {
        var nodes = ServiceReads.SectionAsync(reads.ResourcesAsync, Nodes, ct);
        var workloads = ServiceReads.SectionAsync(reads.WorkloadStatsAsync, Workloads, ct);
        var idleCompute = ServiceReads.SectionAsync(reads.DevicesAsync, IdleCompute, ct);
        var monitoring = ServiceReads.SectionAsync(reads.MonitoringAsync, Monitoring, ct);
        var scheduler = ServiceReads.SectionAsync(reads.JobsAsync, Scheduler, ct);
        var tokenomics = ServiceReads.SectionAsync(reads.TokensAsync, Tokenomics, ct);
        var betanet = ServiceReads.SectionAsync(reads.RelaysAsync, Betanet, ct);
        var p2p = ServiceReads.SectionAsync(reads.PeersAsync, P2P, ct);
        var privacy = ServiceReads.SectionAsync(reads.CircuitsAsync, Privacy, ct);
        await Task.WhenAll(nodes, workloads, idleCompute, monitoring, scheduler, tokenomics, betanet, p2p, privacy);
        return new JsonObject
        {
            ["timestamp"] = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            ["nodes"] = nodes.Result, ["workloads"] = workloads.Result, ["idleCompute"] = idleCompute.Result, ["monitoring"] = monitoring.Result,
            ["scheduler"] = scheduler.Result, ["tokenomics"] = tokenomics.Result, ["betanet"] = betanet.Result,
            ["p2p"] = p2p.Result, ["privacy"] = privacy.Result,
        };
    }

    static string Int64(long value) => value.ToString(CultureInfo.InvariantCulture);

    static JsonObject CountBy<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var counts = new JsonObject();
        foreach (var group in items.GroupBy(key).OrderBy(g => g.Key, StringComparer.Ordinal)) counts[group.Key] = group.Count();
        return counts;
    }

    static JsonNode Nodes(ResourcesSummary summary) => new JsonObject
    {
        ["total"] = summary.Nodes.Count,
        ["ready"] = summary.Nodes.Count(n => n.Status == "Ready"),
        ["byStatus"] = CountBy(summary.Nodes, n => n.Status),
        ["cpuCores"] = summary.Capacity?.CpuCores ?? 0,
        ["memoryBytes"] = Int64(summary.Capacity?.MemoryBytes ?? 0),
        ["reservedCpuMillis"] = summary.Reserved?.CpuMillis ?? 0,
        ["reservedMemoryBytes"] = Int64(summary.Reserved?.MemoryBytes ?? 0),
        ["used"] = Usage(summary.Used),
    };

    /// <summary>Measured use as the views show it: the figures with when they were measured, or why there are none.</summary>
    public static JsonObject Usage(ResourceUsage? used) => used is { Measured: true }
        ? new JsonObject { ["cpuPercent"] = Math.Round(used.CpuPercent, 2), ["memoryUsedBytes"] = Int64(used.MemoryUsedBytes), ["measuredAtMs"] = Int64(used.MeasuredAtMs) }
        : new JsonObject { ["measured"] = false, ["reason"] = used?.Reason ?? "no measurement" };

    static JsonNode Workloads(WorkloadStats stats)
    {
        var byState = new JsonObject();
        foreach (var (state, count) in stats.ByState.OrderBy(s => s.Key, StringComparer.Ordinal)) byState[state] = count;
        return new JsonObject { ["total"] = stats.Total, ["running"] = stats.Running, ["byState"] = byState };
    }

    static JsonNode IdleCompute(DeviceStats stats) => new JsonObject
    {
        ["totalDevices"] = stats.Devices, ["harvesting"] = stats.Offered, ["suspended"] = stats.Suspended, ["offline"] = stats.Offline,
        ["offeredCpuCores"] = stats.OfferedCpuCores, ["offeredMemoryBytes"] = Int64(stats.OfferedMemoryBytes), ["offeredHours"] = Math.Round(stats.OfferedHours, 3),
    };

    static JsonNode Monitoring(Overview overview) => new JsonObject
    {
        ["agentsOnline"] = overview.AgentsOnline, ["agentsStale"] = overview.AgentsStale, ["agentsOffline"] = overview.AgentsOffline,
        ["series"] = Int64(overview.Series), ["ingestRate"] = Math.Round(overview.IngestRate, 2),
        ["alertsFiring"] = overview.AlertsFiring, ["alertsPending"] = overview.AlertsPending,
    };

    static JsonNode Scheduler(Scheduler.V1.SchedulerStats stats)
    {
        var byTier = new JsonObject();
        foreach (var (tier, count) in stats.QueueByTier.OrderBy(t => t.Key, StringComparer.Ordinal)) byTier[tier] = count;
        return new JsonObject
        {
            ["totalJobs"] = stats.TotalJobs, ["pendingJobs"] = stats.PendingJobs, ["queueLength"] = stats.QueueLength, ["runningJobs"] = stats.RunningJobs,
            ["scheduledJobs"] = stats.ScheduledJobs, ["queueByTier"] = byTier, ["slaViolations"] = stats.SlaViolations,
            ["lastSolveMs"] = stats.LastDecision?.SolveMs,
        };
    }

    static JsonNode Tokenomics(Tokenomics.V1.TokenStats stats) => new JsonObject
    {
        ["totalSupply"] = Int64(stats.TotalSupply), ["totalStaked"] = Int64(stats.TotalStaked), ["accounts"] = stats.Accounts,
    };

    /// <summary>Seed 003's betanet figures: active nodes, connections, latency, packets (cells relayed), from what the relays measured.</summary>
    static JsonNode Betanet(Privacy.V1.BetanetStatus status)
    {
        var measured = status.Relays.Where(r => r.HasCellsRelayed).ToList();
        var latencies = status.Relays.Where(r => r.HasExtendLatencyMs).Select(r => r.ExtendLatencyMs).ToList();
        var section = new JsonObject { ["relays"] = status.Total, ["activeNodes"] = status.Running };
        if (measured.Count > 0)
        {
            section["connections"] = status.Relays.Where(r => r.HasConnections).Sum(r => r.Connections);
            section["packets"] = measured.Sum(r => r.CellsRelayed);
        }
        if (latencies.Count > 0) section["latencyMs"] = Math.Round(latencies.Average(), 3);
        return section;
    }

    static JsonNode P2P(Privacy.V1.P2PStats stats) => new JsonObject
    {
        ["connectedPeers"] = stats.Peers, ["links"] = stats.Links.Count, ["messages"] = stats.Messages, ["bytes"] = stats.Bytes,
    };

    static JsonNode Privacy(Privacy.V1.CircuitStats stats) => new JsonObject
    {
        ["activeCircuits"] = stats.Active, ["circuitsBuilt"] = Int64(stats.Built), ["circuitsFailed"] = Int64(stats.Failed),
    };
}
