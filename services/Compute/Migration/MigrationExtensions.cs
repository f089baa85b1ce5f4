namespace Platform.Compute.Migration;

public static class MigrationExtensions
{
    public static IHostApplicationBuilder AddMigration(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MigrationStore>();
        builder.Services.AddSingleton<MigrationEvents>();
        builder.Services.AddSingleton<MigrationLifecycle>();
        return builder;
    }
}
