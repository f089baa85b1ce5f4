using Platform.Compute.Nodes;

namespace Platform.Compute.Evacuation;

public static class EvacuationExtensions
{
    /// <summary>Gives the node monitor and drains their answer: where a Down or draining node's workloads go.</summary>
    public static IHostApplicationBuilder AddEvacuation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EvacuationStore>();
        builder.Services.AddSingleton<INodeEvacuation, WorkloadEvacuation>();
        return builder;
    }
}
