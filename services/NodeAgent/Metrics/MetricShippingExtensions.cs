using Platform.NodeAgent.Identity;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Metrics;

public static class MetricShippingExtensions
{
    /// <summary>About a day of batches at the default 5 s interval.</summary>
    const int PendingCapacity = 20_000;

    public static IHostApplicationBuilder AddMetricShipping(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<MetricIngestion.MetricIngestionClient>("telemetry", streaming: true);
        builder.Services.AddSingleton(sp => new PendingBatches(
            PendingCapacity, Path.Combine(sp.GetRequiredService<NodeIdentity>().StateDirectory, "pending-batches")));
        builder.Services.AddHostedService<MetricShipper>();
        return builder;
    }
}
