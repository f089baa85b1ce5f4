using Platform.Compute.Placement;

namespace Platform.Compute.Workloads;

public static class WorkloadExtensions
{
    public static IHostApplicationBuilder AddWorkloads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<NodePlacement>();
        builder.Services.AddSingleton<WorkloadStore>();
        builder.Services.AddSingleton<AssignmentSignals>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AssignmentSignals>());
        builder.Services.AddSingleton<WorkloadEvents>();
        builder.Services.AddSingleton<WorkloadLifecycle>();
        return builder;
    }
}
