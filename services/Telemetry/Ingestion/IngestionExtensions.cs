namespace Platform.Telemetry.Ingestion;

/// <summary>What ingestion's endpoints (gRPC agents, Prometheus remote write, OTLP/HTTP) share.</summary>
public static class IngestionExtensions
{
    public static IHostApplicationBuilder AddIngestion(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<IngestionLimitOptions>(builder.Configuration.GetSection("Telemetry:Limits"));
        builder.Services.AddSingleton<IngestionLimits>();
        builder.Services.AddSingleton<DeltaTotals>();
        return builder;
    }
}
