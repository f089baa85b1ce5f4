using Platform.ServiceDefaults.Grpc;

namespace Platform.Telemetry.Dashboard;

public static class DashboardExtensions
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<Compute.V1.Compute.ComputeClient>("compute");
        builder.Services.AddSingleton<MonitoringHealthChecks>();
        builder.Services.AddSingleton<ActivityFeed>();
        return builder;
    }
}
