namespace Platform.Telemetry.Storage;

public static class SeriesStorageExtensions
{
    public static IHostApplicationBuilder AddSeriesStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RetentionOptions>(builder.Configuration.GetSection("Telemetry:Retention"));
        builder.Services.Configure<RollupOptions>(builder.Configuration.GetSection("Telemetry:Rollups"));
        builder.Services.AddSingleton<TimePartitions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TimePartitions>());
        builder.Services.AddSingleton<RollupJob>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RollupJob>());
        builder.Services.AddSingleton<SeriesCatalog>();
        builder.Services.AddSingleton<SeriesInterner>();
        builder.Services.AddSingleton<SampleWriter>();
        builder.Services.AddSingleton<SampleReader>();
        return builder;
    }
}
