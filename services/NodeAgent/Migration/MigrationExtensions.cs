namespace Platform.NodeAgent.Migration;

public static class MigrationExtensions
{
    /// <summary>Both ends of a migration: the runner that sends a workload away and the receiver that takes one in.</summary>
    public static IHostApplicationBuilder AddMigration(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MigrationStaging>();
        builder.Services.AddSingleton<MigrationPeers>();
        builder.Services.AddSingleton<MigrationRunner>();
        return builder;
    }

    public static WebApplication MapMigration(this WebApplication app)
    {
        app.MapGrpcService<MigrationReceiverService>();
        return app;
    }
}
