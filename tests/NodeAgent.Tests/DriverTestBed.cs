using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// What every driver test shares: a temporary folder for its workloads, and every workload it starts killed (its whole
/// process group) and removed when the test ends, even when it fails halfway.
/// </summary>
public abstract class DriverTestBed(string prefix) : IDisposable
{
    protected readonly string Root = Directory.CreateTempSubdirectory(prefix).FullName;
    readonly List<WorkloadHandle> started = [];

    /// <summary>Starts <paramref name="assignment"/> with <paramref name="driver"/> in its own folder under <see cref="Root"/>.</summary>
    protected async Task<WorkloadHandle> StartAsync(IWorkloadDriver driver, Assignment assignment)
    {
        var handle = await driver.StartAsync(assignment, Path.Combine(Root, assignment.WorkloadId), CancellationToken.None);
        started.Add(handle);
        return handle;
    }

    public void Dispose()
    {
        foreach (var handle in started) Signals.Send(-handle.Pid, Signals.Kill);
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
