namespace Platform.Telemetry.Queries;

public static class MetricQueriesExtensions
{
    public static IHostApplicationBuilder AddMetricQueries(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RangeQueryOptions>(builder.Configuration.GetSection("Telemetry:Queries"));
        builder.Services.AddSingleton<RangeQueries>();
        return builder;
    }
}
