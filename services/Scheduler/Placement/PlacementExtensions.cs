using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Placement;

public static class PlacementExtensions
{
    public static IHostApplicationBuilder AddPlacement(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PlacementOptions>(builder.Configuration.GetSection("Scheduler:Placement"));
        builder.Services.Configure<GovernanceOptions>(builder.Configuration.GetSection("Scheduler:Governance"));
        builder.AddPlatformGrpcClient<Compute.V1.Compute.ComputeClient>("compute");
        // The loop lists every workload it placed in one call: thousands of them pass gRPC's default 4 MiB.
        builder.AddPlatformGrpcClient<Compute.V1.Workloads.WorkloadsClient>("compute").ConfigureChannel(channel => channel.MaxReceiveMessageSize = 64 << 20);
        builder.AddPlatformGrpcClient<Compute.V1.Benchmarks.BenchmarksClient>("compute");
        builder.Services.AddSingleton<ClusterReader>();
        builder.Services.AddSingleton<DecisionStore>();
        builder.Services.AddSingleton<ObjectiveWeightsStore>();
        builder.Services.AddSingleton<PlacementRecorder>();
        return builder;
    }
}
