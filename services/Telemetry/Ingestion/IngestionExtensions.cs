namespace Platform.Telemetry.Ingestion;

/// <summary>Ingestion's endpoints (gRPC agents, Prometheus remote write, OTLP/HTTP) and what they share.</summary>
public static class IngestionExtensions
{
    public static IHostApplicationBuilder AddIngestion(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<IngestionLimitOptions>(builder.Configuration.GetSection("Telemetry:Limits"));
        builder.Services.AddSingleton<IngestionLimits>();
        builder.Services.AddSingleton<DeltaTotals>();
        return builder;
    }

    public static WebApplication MapIngestion(this WebApplication app)
    {
        app.MapGrpcService<MetricIngestionService>();
        app.MapRemoteWrite();
        app.MapOtlpMetrics();
        return app;
    }
}
