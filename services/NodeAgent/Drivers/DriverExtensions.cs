namespace Platform.NodeAgent.Drivers;

public static class DriverExtensions
{
    /// <summary>The ways this node runs a workload: a process, a bubblewrap sandbox, a qemu VM.</summary>
    public static IHostApplicationBuilder AddWorkloadDrivers(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<QemuOptions>(builder.Configuration.GetSection("NodeAgent:Qemu"));
        builder.Services.AddSingleton<IWorkloadDriver, ProcessDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, SandboxDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, QemuDriver>();
        return builder;
    }
}
