namespace Platform.Telemetry.Storage;

public static class SeriesStorageExtensions
{
    public static IHostApplicationBuilder AddSeriesStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SeriesCatalog>();
        builder.Services.AddSingleton<SampleWriter>();
        builder.Services.AddSingleton<SampleReader>();
        return builder;
    }
}
