using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Benchmarks;

public static class BenchmarkExtensions
{
    public static IHostApplicationBuilder AddBenchmarks(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<Telemetry.V1.MetricIngestion.MetricIngestionClient>("telemetry", streaming: true);
        builder.Services.AddSingleton<BenchmarkStore>();
        builder.Services.AddSingleton<BenchmarkSeries>();
        builder.Services.AddSingleton<BenchmarkRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BenchmarkRunner>());
        return builder;
    }
}
