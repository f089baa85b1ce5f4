namespace Platform.NodeAgent.Drivers;

public static class DriverExtensions
{
    /// <summary>The ways this node runs a workload: a process, a bubblewrap sandbox, a qemu VM, the platform's own benchmarks.</summary>
    public static IHostApplicationBuilder AddWorkloadDrivers(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<QemuOptions>(builder.Configuration.GetSection("NodeAgent:Qemu"));
        builder.Services.AddOptions<QemuOptions>().Configure<Identity.NodeIdentity>((options, identity) =>
            options.ImageDirectory ??= Path.Combine(identity.StateDirectory, "images"));
        // One scope of control groups per node (two agents on one machine never touch each other's workloads).
        builder.Services.AddSingleton(services => WorkloadCgroups.Detect(services.GetRequiredService<Identity.NodeIdentity>().Name));
        builder.Services.AddSingleton<IWorkloadDriver, ProcessDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, SandboxDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, QemuDriver>();
        builder.Services.AddSingleton<IWorkloadDriver, BenchmarkDriver>();
        return builder;
    }
}
