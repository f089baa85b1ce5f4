using Platform.Gateway.Realtime;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Gateway.Views;

/// <summary>
/// The seeds' aggregate views, composed here from the services' own read RPCs (the one thing no single service can
/// answer): seed 003's <c>/api/dashboard/stats</c> and <c>/ws/metrics</c>, seed 000's <c>/api/dashboard/metrics</c>, <c>/api/performance</c> and <c>/api/network</c>, seed 002's <c>/api/info</c>,
/// seed 004's <c>/api/system/ws</c> and <c>/api/services/ws</c>, seed 002's <c>/ws/monitoring</c>.
/// </summary>
public static class ViewsExtensions
{
    public static IHostApplicationBuilder AddSeedViews(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<Compute.V1.Compute.ComputeClient>("compute");
        builder.AddPlatformGrpcClient<Compute.V1.NodeInsight.NodeInsightClient>("compute");
        builder.AddPlatformGrpcClient<Compute.V1.Workloads.WorkloadsClient>("compute");
        builder.AddPlatformGrpcClient<Compute.V1.Devices.DevicesClient>("compute");
        builder.AddPlatformGrpcClient<Compute.V1.Benchmarks.BenchmarksClient>("compute");
        builder.AddPlatformGrpcClient<Telemetry.V1.MetricQueries.MetricQueriesClient>("telemetry");
        builder.AddPlatformGrpcClient<Telemetry.V1.Dashboard.DashboardClient>("telemetry");
        builder.AddPlatformGrpcClient<Telemetry.V1.MonitoringViews.MonitoringViewsClient>("telemetry");
        builder.AddPlatformGrpcClient<Scheduler.V1.Scheduler.SchedulerClient>("scheduler");
        builder.AddPlatformGrpcClient<Tokenomics.V1.Tokenomics.TokenomicsClient>("tokenomics");
        builder.AddPlatformGrpcClient<Privacy.V1.Privacy.PrivacyClient>("privacy");
        builder.Services.AddSingleton<GatewayViewerToken>();
        builder.Services.AddSingleton<ServiceReads>();
        builder.Services.AddSingleton<SeedViews>();
        return builder;
    }

    public static void MapSeedViews(this IEndpointRouteBuilder app)
    {
        var views = app.MapGroup("").RequireAuthorization(PlatformPolicies.Viewer);
        views.MapGet("/api/dashboard/stats", (SeedViews seeds, CancellationToken ct) => CurrentAsync(seeds.Summary, ct));
        views.MapGet("/api/dashboard/metrics", (SeedViews seeds, CancellationToken ct) => CurrentAsync(seeds.Summary, ct));
        views.MapGet("/api/performance", async (ServiceReads reads, CancellationToken ct) => Results.Json(await NodeViews.PerformanceAsync(reads, ct)));
        views.MapGet("/api/network", async (ServiceReads reads, CancellationToken ct) => Results.Json(await NodeViews.NetworkAsync(reads, ct)));
        views.MapGet("/api/info", async (ServiceReads reads, Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService health, CancellationToken ct) =>
            Results.Json(await ApiInfo.ComposeAsync(reads, health, ct)));
        views.Map("/ws/metrics", (HttpContext context, SeedViews seeds, RealtimeHub hub, TimeProvider clock, ILogger<SeedViews> logger) =>
            ViewSocket.ServeAsync(context, seeds.Summary, hub, clock, logger));
        views.Map("/ws/monitoring", (HttpContext context, SeedViews seeds, RealtimeHub hub, TimeProvider clock, ILogger<SeedViews> logger) =>
            ViewSocket.ServeAsync(context, seeds.Monitoring, hub, clock, logger));
        views.Map("/api/system/ws", (HttpContext context, SeedViews seeds, RealtimeHub hub, TimeProvider clock, ILogger<SeedViews> logger) =>
            ViewSocket.ServeAsync(context, seeds.NodeStats, hub, clock, logger));
        views.Map("/api/services/ws", (HttpContext context, SeedViews seeds, RealtimeHub hub, TimeProvider clock, ILogger<SeedViews> logger) =>
            ViewSocket.ServeAsync(context, seeds.WorkloadStatus, hub, clock, logger));
    }

    static async Task<IResult> CurrentAsync(ViewFeed feed, CancellationToken cancellationToken) =>
        Results.Bytes(await feed.CurrentAsync(cancellationToken), "application/json");
}
