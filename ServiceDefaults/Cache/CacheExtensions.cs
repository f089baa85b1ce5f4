using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Cache;

/// <summary>The Redis-protocol cache: one multiplexer per process, its health check, and the event publisher.</summary>
public static class CacheExtensions
{
    public static IHostApplicationBuilder AddPlatformCache(this IHostApplicationBuilder builder, string connectionName = "cache")
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"No connection string 'ConnectionStrings:{connectionName}': run through the AppHost or set ConnectionStrings__{connectionName}.");

        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks().AddCheck<CacheHealthCheck>("cache");
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddSingleton<Auth.AgentRevocations>();
        return builder;
    }
}
