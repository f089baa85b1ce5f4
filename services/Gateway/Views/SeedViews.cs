namespace Platform.Gateway.Views;

/// <summary>The seeds' push views, one feed each per gateway replica.</summary>
public sealed class SeedViews(ServiceReads reads, TimeProvider clock, ILogger<SeedViews> logger)
{
    /// <summary>Seed 003's summary, every second (<c>/ws/metrics</c>, <c>/api/dashboard/stats</c>).</summary>
    public ViewFeed Summary { get; } = new("summary", TimeSpan.FromSeconds(1), ct => PlatformSummary.ComposeAsync(reads, clock, ct), onlyChanges: false, logger);

    /// <summary>Seed 004's node stats, every two seconds (<c>/api/system/ws</c>).</summary>
    public ViewFeed NodeStats { get; } = new("node stats", TimeSpan.FromSeconds(2), ct => SeedPushViews.NodeStatsAsync(reads, clock, ct), onlyChanges: false, logger);

    /// <summary>Seed 004's service status: the workloads, whenever one changed (looked at every two seconds; <c>/api/services/ws</c>).</summary>
    public ViewFeed WorkloadStatus { get; } = new("workload status", TimeSpan.FromSeconds(2), ct => SeedPushViews.WorkloadStatusAsync(reads, ct), onlyChanges: true, logger);

    /// <summary>Seed 002's system and VM metrics, as new samples arrive (looked at every two seconds; <c>/ws/monitoring</c>).</summary>
    public ViewFeed Monitoring { get; } = new("monitoring", TimeSpan.FromSeconds(2), ct => SeedPushViews.MonitoringAsync(reads, ct), onlyChanges: true, logger);
}
