using System.Collections.Concurrent;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Identity;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// The workloads on this node and their processes: started and stopped with their drivers, watched until they exit,
/// restarted when their policy says so, and found again (re-attached) after an agent restart. Every change to one
/// workload holds its gate, so the reconciler, an exit and a migration's stop never interleave on it.
/// </summary>
public sealed class LocalWorkloads(IEnumerable<IWorkloadDriver> drivers, NodeIdentity identity, WorkloadReporter reporter, TimeProvider clock, ILogger<LocalWorkloads> logger)
{
    readonly ConcurrentDictionary<string, LocalWorkload> workloads = new();

    /// <summary>The workloads' folders, one per workload id: theirs to write.</summary>
    string Root => Path.Combine(identity.StateDirectory, "workloads");

    /// <summary>The agent's records of them: root only (0700), out of every workload's reach.</summary>
    string StateRoot => Path.Combine(identity.StateDirectory, "agent", "workloads");

    /// <summary>The workloads this agent supervises now.</summary>
    public IReadOnlyCollection<LocalWorkload> All => [.. workloads.Values];

    public IEnumerable<string> Ids => workloads.Keys;

    public IWorkloadDriver? Driver(string name) => drivers.FirstOrDefault(d => d.Name == name);

    public LocalWorkload? Find(string workloadId) => workloads.GetValueOrDefault(workloadId);

    /// <summary>The workload, known from now on; its id must be a UUID (Compute's), so it names exactly one folder.</summary>
    public LocalWorkload GetOrAdd(Assignment assignment)
    {
        if (!Guid.TryParse(assignment.WorkloadId, out var parsed) || parsed.ToString() != assignment.WorkloadId)
            throw new ArgumentException($"workload id '{assignment.WorkloadId}' is not a UUID in canonical form");
        return workloads.GetOrAdd(assignment.WorkloadId, id => new LocalWorkload
        {
            WorkloadId = id, Name = assignment.Name, Driver = assignment.Driver, Folder = Path.Combine(Root, id), StateFile = Path.Combine(EnsureStateRoot(), $"{id}.json"),
        });
    }

    string EnsureStateRoot()
    {
        Directory.CreateDirectory(StateRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return StateRoot;
    }

    /// <summary>Starts the workload's process (or restores its checkpoint); a start that fails leaves it crashed with the reason.</summary>
    public async Task StartAsync(LocalWorkload workload, Assignment assignment, CancellationToken cancellationToken)
    {
        var driver = Driver(assignment.Driver);
        var fingerprint = driver?.Fingerprint();
        if (driver is null || fingerprint is { Available: false })
        {
            (workload.Power, workload.Message, workload.ExitCode) = (PowerStates.Crashed, $"driver {assignment.Driver} is not available on this node{(fingerprint is null ? "" : $": {fingerprint.Reason}")}", null);
            return;
        }
        // A checkpoint in the folder (a live migration's, here or back on its source) is taken out of the workload's
        // reach before anything runs — moved into the agent's root-only state — and restored once from there, only if
        // root wrote it (the receiver or CRIU did; one the workload made for itself is removed, never restored).
        var checkpoint = TakeCheckpoint(workload);
        try
        {
            workload.Handle = checkpoint is { Restorable: true }
                ? await driver.RestoreAsync(assignment, workload.Folder, checkpoint.Value.Path, cancellationToken)
                : await driver.StartAsync(assignment, workload.Folder, cancellationToken);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException or CheckpointException or NotSupportedException)
        {
            (workload.Power, workload.Message, workload.ExitCode) = (PowerStates.Crashed, $"could not {(ex is CheckpointException or NotSupportedException ? "restore its checkpoint" : "start")}: {ex.Message}", null);
            return;
        }
        finally
        {
            if (checkpoint is { Path: var taken } && Directory.Exists(taken)) Directory.Delete(taken, recursive: true);
        }
        (workload.Power, workload.Message, workload.ExitCode, workload.StartedAt, workload.FinishedAt) = (PowerStates.Running, "", null, clock.GetUtcNow(), null);
        _ = WatchExitAsync(workload, workload.Handle, driver);
    }

    /// <summary>The folder's checkpoint moved (a rename: links are moved, not followed) into the agent's own state, if it had one.</summary>
    (string Path, bool Restorable)? TakeCheckpoint(LocalWorkload workload)
    {
        var inFolder = Path.Combine(workload.Folder, CriuCheckpoint.ImagesFolder);
        if (!Directory.Exists(inFolder) && !File.Exists(inFolder)) return null;
        var restorable = !File.GetAttributes(inFolder).HasFlag(FileAttributes.ReparsePoint) && WorkloadUsers.Owner(inFolder) == 0;
        var taken = Path.Combine(EnsureStateRoot(), $"{workload.WorkloadId}.checkpoint-{Guid.NewGuid():N}");
        Directory.Move(inFolder, taken);
        if (!restorable)
        {
            if (File.GetAttributes(taken).HasFlag(FileAttributes.ReparsePoint)) File.Delete(taken);
            logger.LogWarning("Workload {WorkloadId} had a checkpoint it wrote itself; removed, not restored", workload.WorkloadId);
            return (taken, false);
        }
        return (taken, true);
    }

    /// <summary>Stops the workload's process and records how it ended; the exit watcher then stands down.</summary>
    public async Task StopAsync(LocalWorkload workload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (workload.Handle is not { } handle || Driver(workload.Driver) is not { } driver) return;
        await driver.StopAsync(handle, timeout, cancellationToken);
        var code = await driver.WaitAsync(handle, cancellationToken);
        (workload.Handle, workload.Power, workload.ExitCode, workload.FinishedAt) = (null, PowerStates.Shutdown, code ?? (timeout == TimeSpan.Zero ? 137 : null), clock.GetUtcNow());
    }

    /// <summary>Checkpoints a running workload into its folder (live migration): it stops as CRIU dumps it; a failed dump leaves it running.</summary>
    public async Task CheckpointAsync(LocalWorkload workload, CancellationToken cancellationToken)
    {
        if (workload.Handle is not { } handle) return;
        await Driver(workload.Driver)!.CheckpointAsync(handle, Path.Combine(workload.Folder, CriuCheckpoint.ImagesFolder), cancellationToken);
        (workload.Handle, workload.Power, workload.ExitCode, workload.FinishedAt) = (null, PowerStates.Shutdown, null, clock.GetUtcNow());
    }

    /// <summary>Stops the workload, removes its folder and forgets it; its last report says it is absent. Null when it is not here.</summary>
    public async Task<WorkloadReport?> RemoveAsync(LocalWorkload workload, string why, long? generation, CancellationToken cancellationToken)
    {
        if (workload.Handle is not null) await StopAsync(workload, TimeSpan.Zero, cancellationToken);
        // Its process has exited (stopped above): the driver removes what is left, its folder.
        if (Driver(workload.Driver) is { } driver) driver.Destroy(new WorkloadHandle(workload.Driver, workload.Folder, 0, 0));
        else if (Directory.Exists(workload.Folder)) Directory.Delete(workload.Folder, recursive: true);
        workloads.TryRemove(workload.WorkloadId, out _);
        workload.Forget();
        logger.LogInformation("Removed workload {WorkloadName} ({WorkloadId}): {Why}", workload.Name, workload.WorkloadId, why);
        var report = workload.ToReport(absent: true);
        report.Generation = generation ?? workload.Generation;
        return report;
    }

    /// <summary>A workload that exits by itself: recorded, restarted when its policy says so, and reported.</summary>
    async Task WatchExitAsync(LocalWorkload workload, WorkloadHandle handle, IWorkloadDriver driver)
    {
        int? code;
        try
        {
            code = await driver.WaitAsync(handle, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Waiting for workload {WorkloadId} failed", workload.WorkloadId);
            return;
        }
        bool restart;
        using (await workload.LockAsync(CancellationToken.None))
        {
            if (workload.Handle != handle) return; // stopped or replaced by the agent meanwhile
            (workload.Handle, workload.ExitCode, workload.FinishedAt) = (null, code, clock.GetUtcNow());
            workload.Power = code == 0 ? PowerStates.Shutdown : PowerStates.Crashed;
            if (code != 0 && workload.Message == "") workload.Message = code is null ? "exited; its exit code is unknown" : $"exited with code {code}";
            restart = RestartsAfter(workload.Assignment, code);
            if (restart) (workload.Restarts, workload.Restarting) = (workload.Restarts + 1, true);
            logger.LogInformation("Workload {WorkloadName} ({WorkloadId}) exited with {ExitCode}{Restart}", workload.Name, workload.WorkloadId,
                code?.ToString() ?? "an unknown code", restart ? $"; restarting ({workload.Restarts})" : "");
            workload.Save();
        }
        if (restart)
        {
            await Task.Delay(Backoff(workload.Restarts), clock);
            using (await workload.LockAsync(CancellationToken.None))
            {
                workload.Restarting = false;
                if (workload.Handle is null && workload.Assignment is { DesiredState: DesiredStates.Running } assignment && workloads.ContainsKey(workload.WorkloadId))
                    await StartAsync(workload, assignment, CancellationToken.None);
                workload.Save();
            }
        }
        await reporter.ReportAsync([(workload, workload.ToReport())], CancellationToken.None);
    }

    /// <summary>Whether a workload that exited with <paramref name="code"/> by itself starts again: its policy, while it is wanted running.</summary>
    public static bool RestartsAfter(Assignment? assignment, int? code) =>
        assignment?.DesiredState == DesiredStates.Running
        && (assignment.RestartPolicy == RestartPolicies.Always || (assignment.RestartPolicy == RestartPolicies.OnFailure && code != 0));

    static TimeSpan Backoff(int restarts) => TimeSpan.FromMilliseconds(Math.Min(250 * Math.Pow(2, Math.Min(restarts - 1, 7)), 30_000));

    /// <summary>Finds the workloads a previous run of the agent left: running ones are re-attached, exited ones recorded.</summary>
    public void Recover()
    {
        foreach (var workload in LocalWorkload.LoadAll(EnsureStateRoot(), Root))
        {
            workloads[workload.WorkloadId] = workload;
            if (workload.Handle is not { } handle || Driver(workload.Driver) is not { } driver) continue;
            if (driver.Recover(handle))
            {
                workload.Power = driver.Inspect(handle);
                logger.LogInformation("Re-attached to workload {WorkloadName} ({WorkloadId}), pid {Pid}, {Power}", workload.Name, workload.WorkloadId, handle.Pid, workload.Power);
                _ = WatchExitAsync(workload, handle, driver);
            }
            else
            {
                var code = driver.WaitAsync(handle, CancellationToken.None).GetAwaiter().GetResult();
                (workload.Handle, workload.ExitCode, workload.Power, workload.FinishedAt) = (null, code, code == 0 ? PowerStates.Shutdown : PowerStates.Crashed, clock.GetUtcNow());
                workload.Message = "exited while the agent was away";
                workload.Save();
            }
        }
    }

    /// <summary>The platform is shutting its local nodes down: every running workload stops, and starts again when the agent returns.</summary>
    public Task StopAllAsync() =>
        Task.WhenAll(workloads.Values.Where(w => w.Handle is not null).Select(async workload =>
        {
            await StopAsync(workload, TimeSpan.FromSeconds(5), CancellationToken.None);
            workload.Generation = 0;
            workload.Save();
        }));
}
