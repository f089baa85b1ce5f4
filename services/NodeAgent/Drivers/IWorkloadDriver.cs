using Platform.Compute.V1;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// A way to run workloads on this machine, in the shape of Nomad's task drivers. Handles are plain data kept in the
/// workload's folder, so an agent that restarts can recover them and find its workloads still running.
/// </summary>
public interface IWorkloadDriver
{
    string Name { get; }

    /// <summary>Whether the driver can really run work here, why not, and how it limits resources.</summary>
    DriverInfo Fingerprint();

    /// <summary>Starts the workload in <paramref name="folder"/>; its output goes to stdout.log and stderr.log there.</summary>
    Task<WorkloadHandle> StartAsync(Assignment assignment, string folder, CancellationToken cancellationToken);

    /// <summary>Whether the process a handle describes is still the one it started (after an agent restart).</summary>
    bool Recover(WorkloadHandle handle);

    /// <summary>Completes when the workload has exited, with its exit code when it could be learnt.</summary>
    Task<int?> WaitAsync(WorkloadHandle handle, CancellationToken cancellationToken);

    /// <summary>SIGTERM, then SIGKILL once <paramref name="timeout"/> has passed (at once when zero).</summary>
    Task StopAsync(WorkloadHandle handle, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Removes what the workload left on the machine (it must have exited).</summary>
    void Destroy(WorkloadHandle handle);

    /// <summary>running, paused or exited.</summary>
    string Inspect(WorkloadHandle handle);

    /// <summary>CPU, memory and I/O of all the workload's processes; from <paramref name="processes"/> when the caller read them already.</summary>
    WorkloadUsage Stats(WorkloadHandle handle, IReadOnlyCollection<Machine.ProcessStat>? processes = null);

    void Signal(WorkloadHandle handle, int signal);

    /// <summary>
    /// Live migration: checkpoints the running workload into <paramref name="imagesDir"/>, after which it has stopped.
    /// Drivers that cannot throw <see cref="NotSupportedException"/> (their fingerprint's live_migration says why).
    /// </summary>
    Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the {Name} driver cannot checkpoint a workload");

    /// <summary>Brings back a workload checkpointed into <paramref name="imagesDir"/> (on this node or another).</summary>
    Task<WorkloadHandle> RestoreAsync(Assignment assignment, string folder, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the {Name} driver cannot restore a workload");
}

/// <summary>What a driver needs to find its workload again.</summary>
public sealed record WorkloadHandle(string Driver, string Folder, int Pid, long StartTicks);

/// <summary>CPU seconds, resident memory and bytes read and written by a workload's processes.</summary>
public sealed record WorkloadUsage(double CpuSeconds, long RssBytes, long ReadBytes, long WriteBytes, int Processes);
