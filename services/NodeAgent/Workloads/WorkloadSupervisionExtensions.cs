using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Workloads;

public static class WorkloadSupervisionExtensions
{
    public static IHostApplicationBuilder AddWorkloadSupervision(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<WorkloadOptions>(builder.Configuration.GetSection("NodeAgent:Workloads"));
        builder.AddPlatformGrpcClient<WorkloadAssignments.WorkloadAssignmentsClient>("compute", streaming: true);
        builder.Services.AddSingleton<WorkloadReporter>();
        builder.Services.AddSingleton<LocalWorkloads>();
        builder.Services.AddSingleton<WorkloadSupervisor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkloadSupervisor>());
        builder.Services.AddSingleton<Metrics.ISampleSource, WorkloadUsageSamples>();
        return builder;
    }
}
