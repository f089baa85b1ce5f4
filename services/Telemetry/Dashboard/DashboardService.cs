using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Agents;
using Platform.Telemetry.Alerts;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Dashboard;

/// <summary>The seeds' dashboard: every figure is counted from the stores, or asked of Compute for nodes.</summary>
public sealed class DashboardService(
    Compute.V1.Compute.ComputeClient compute, AgentStore agents, AlertStore alerts, SampleReader samples, MonitoringHealthChecks health,
    ActivityFeed activity, TimeProvider clock, ILogger<DashboardService> logger) : V1.Dashboard.DashboardBase
{
    static readonly TimeSpan ComputeDeadline = TimeSpan.FromSeconds(3);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Overview> GetOverview(GetOverviewRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var fleet = await agents.ListAsync(context.CancellationToken);
        var open = await alerts.AlertsAsync(null, ["pending", "firing"], context.CancellationToken);
        var storage = await samples.StatsAsync(now.AddMinutes(-1), context.CancellationToken);
        var overview = new Overview
        {
            AgentsOnline = fleet.Count(a => a.Status(now) == "online"),
            AgentsStale = fleet.Count(a => a.Status(now) == "stale"),
            AgentsOffline = fleet.Count(a => a.Status(now) == "offline"),
            Series = storage.Series,
            IngestRate = storage.LastMinute / 60.0,
            AlertsFiring = open.Count(a => a.Phase.State == "firing"),
            AlertsPending = open.Count(a => a.Phase.State == "pending"),
        };
        try
        {
            var nodes = await compute.ListNodesAsync(new ListNodesRequest(), deadline: DateTime.UtcNow + ComputeDeadline, cancellationToken: context.CancellationToken);
            overview.Nodes = new NodeCounts { Ready = nodes.Nodes.Count(n => n.Status == "Ready"), NotReady = nodes.Nodes.Count(n => n.Status != "Ready") };
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or HttpRequestException)
        {
            logger.LogWarning("Compute did not answer for the overview: {Reason}", ex.Message);
            overview.NodesError = "compute did not answer";
        }
        return overview;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<MonitoringHealth> GetHealth(GetHealthRequest request, ServerCallContext context) => health.CheckAsync(context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Activity> GetActivity(GetActivityRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.Limit is >= 0 and <= 500, "limit", "must be between 1 and 500 (0 means 50)").ThrowIfInvalid();
        var feed = new Activity();
        feed.Items.AddRange(await activity.RecentAsync(request.Limit == 0 ? 50 : request.Limit, context.CancellationToken));
        return feed;
    }
}
