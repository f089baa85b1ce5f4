using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Hosting;

/// <summary>
/// Stops the process when the AppHost that started it is gone (killed with SIGKILL, say), so no service or agent
/// outlives its orchestrator. The AppHost passes its PID in <c>PLATFORM_PARENT_PID</c>; once the kernel has re-parented
/// us, <c>getppid()</c> no longer returns it.
/// </summary>
public sealed partial class ParentProcessWatcher(IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<ParentProcessWatcher> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    static readonly TimeSpan GracefulStopLimit = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(configuration["PLATFORM_PARENT_PID"], out var parent) || !OperatingSystem.IsLinux())
            return;

        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (GetParentProcessId() == parent) continue;
            logger.LogWarning("Parent process {ParentPid} is gone; stopping", parent);
            _ = Task.Delay(GracefulStopLimit, CancellationToken.None).ContinueWith(_ => Environment.Exit(1), TaskScheduler.Default);
            lifetime.StopApplication();
            return;
        }
    }

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}
