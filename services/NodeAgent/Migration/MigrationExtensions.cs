namespace Platform.NodeAgent.Migration;

public static class MigrationExtensions
{
    /// <summary>Both ends of a migration: the runner that sends a workload away and the receiver that takes one in.</summary>
    public static IHostApplicationBuilder AddMigration(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<MigrationStagingOptions>(builder.Configuration.GetSection("NodeAgent:Migration"));
        builder.Services.AddSingleton<MigrationStaging>();
        builder.Services.AddSingleton<IncomingMigrations>();
        builder.Services.AddSingleton<MigrationPeers>();
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddSingleton<OutgoingMigrations>();
        // Blocks are 1 MiB messages, several in flight: Kestrel's default HTTP/2 windows (1 MiB per connection, 768 KiB
        // per stream) would make every block wait for a window update.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 << 20;
            kestrel.Limits.Http2.InitialStreamWindowSize = 4 << 20;
        });
        return builder;
    }
}
