using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// What every driver test shares: a temporary folder for its workloads, and every workload it starts destroyed (its
/// processes killed, its control groups and folder removed) when the test ends, even when it fails halfway.
/// </summary>
public abstract class DriverTestBed(string prefix) : IDisposable
{
    protected readonly string Root = Directory.CreateTempSubdirectory(prefix).FullName;
    readonly List<(IWorkloadDriver Driver, WorkloadHandle Handle)> started = [];

    /// <summary>Starts <paramref name="assignment"/> with <paramref name="driver"/> in its own folder under <see cref="Root"/>.</summary>
    protected async Task<WorkloadHandle> StartAsync(IWorkloadDriver driver, Assignment assignment)
    {
        var handle = await driver.StartAsync(assignment, Path.Combine(Root, assignment.WorkloadId), CancellationToken.None);
        started.Add((driver, handle));
        return handle;
    }

    public void Dispose()
    {
        // Destroy kills the group and whatever is left in the workload's control groups, and removes them.
        foreach (var (driver, handle) in started)
            try { driver.Destroy(handle); } catch (IOException) { }
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
