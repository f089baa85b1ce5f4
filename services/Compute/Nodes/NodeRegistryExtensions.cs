using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Nodes;

public static class NodeRegistryExtensions
{
    public static IHostApplicationBuilder AddNodeRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<NodeLeaseOptions>(builder.Configuration.GetSection("Compute:Leases"));
        builder.Services.Configure<AdmissionOptions>(builder.Configuration.GetSection("Compute:Admission"));
        builder.Services.AddSingleton<NodeStore>();
        builder.Services.AddSingleton<NodeAgentClients>();
        builder.Services.AddSingleton<ClusterResources>();
        builder.AddPlatformGrpcClient<Telemetry.V1.MetricQueries.MetricQueriesClient>("telemetry");
        builder.Services.AddSingleton<NodeRevocations>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRevocations>());
        builder.Services.AddSingleton<Platform.ServiceDefaults.Data.DatabaseAvailability>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Platform.ServiceDefaults.Data.DatabaseAvailability>());
        builder.Services.AddSingleton<NodeMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeMonitor>());
        return builder;
    }
}

/// <summary>How long a heartbeat keeps a node Ready, and how long after that it is Down.</summary>
public sealed class NodeLeaseOptions
{
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan DownAfter { get; set; } = TimeSpan.FromSeconds(45);
    public TimeSpan MonitorInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest an agent waits between tries to reach Compute (its registration backoff): after the database or
    /// Compute was away, leases are judged again only once it has been reachable for a lease plus this long, so every
    /// live agent has heartbeated since.
    /// </summary>
    public TimeSpan AgentRetryMax { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Whether a node that registers for the first time may take work at once, or waits for an operator.</summary>
public sealed class AdmissionOptions
{
    /// <summary>Automatic (default) or Manual.</summary>
    public string Mode { get; set; } = "Automatic";

    public bool IsManual => string.Equals(Mode, "Manual", StringComparison.OrdinalIgnoreCase);
}
