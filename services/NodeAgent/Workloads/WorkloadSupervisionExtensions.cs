using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.NodeAgent.Workloads;

public static class WorkloadSupervisionExtensions
{
    public static IHostApplicationBuilder AddWorkloadSupervision(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<WorkloadOptions>(builder.Configuration.GetSection("NodeAgent:Workloads"));
        builder.Services.Configure<QemuOptions>(builder.Configuration.GetSection("NodeAgent:Qemu"));
        builder.AddPlatformGrpcClient<WorkloadAssignments.WorkloadAssignmentsClient>("compute", streaming: true);
        builder.Services.AddSingleton<IWorkloadDriver, ProcessDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, SandboxDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, QemuDriver>();
        builder.Services.AddSingleton<WorkloadSupervisor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkloadSupervisor>());
        builder.Services.AddSingleton<Metrics.ISampleSource, WorkloadUsageSamples>();
        return builder;
    }
}
