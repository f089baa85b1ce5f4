namespace Platform.Compute.Nodes;

public static class NodeRegistryExtensions
{
    public static IHostApplicationBuilder AddNodeRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<NodeLeaseOptions>(builder.Configuration.GetSection("Compute:Leases"));
        builder.Services.AddSingleton<NodeStore>();
        return builder;
    }
}

/// <summary>How long a heartbeat keeps a node Ready.</summary>
public sealed class NodeLeaseOptions
{
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(15);
}
