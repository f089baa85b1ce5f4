namespace Platform.Telemetry.Storage;

public static class SeriesStorageExtensions
{
    public static IHostApplicationBuilder AddSeriesStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RetentionOptions>(builder.Configuration.GetSection("Telemetry:Retention"));
        builder.Services.AddSingleton<SamplePartitions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SamplePartitions>());
        builder.Services.AddSingleton<SeriesCatalog>();
        builder.Services.AddSingleton<SeriesInterner>();
        builder.Services.AddSingleton<SampleWriter>();
        builder.Services.AddSingleton<SampleReader>();
        return builder;
    }
}
