using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Relay;

public static class RelayExtensions
{
    /// <summary>The onion relay role: off until the Privacy directory gives this node a relay.</summary>
    public static IHostApplicationBuilder AddRelayRole(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RelayOptions>(builder.Configuration.GetSection("NodeAgent:Relay"));
        builder.AddPlatformGrpcClient<Privacy.V1.RelayDirectory.RelayDirectoryClient>("privacy");
        builder.Services.AddSingleton<RelayKeyFiles>();
        builder.Services.AddSingleton<NodeRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRelay>());
        builder.Services.AddSingleton<Metrics.ISampleSource, RelaySamples>();
        return builder;
    }
}
