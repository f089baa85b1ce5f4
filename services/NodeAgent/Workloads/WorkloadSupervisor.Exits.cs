namespace Platform.NodeAgent.Workloads;

/// <summary>Workloads that end by themselves, and the workloads a previous run of the agent left behind.</summary>
public sealed partial class WorkloadSupervisor
{
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
        await workload.Gate.WaitAsync();
        bool restart;
        try
        {
            if (workload.Handle != handle) return; // stopped or replaced by the agent meanwhile
            var policy = workload.Assignment?.RestartPolicy ?? "never";
            (workload.Handle, workload.ExitCode, workload.FinishedAt) = (null, code, clock.GetUtcNow());
            workload.Power = code == 0 ? "shutdown" : "crashed";
            if (code != 0 && workload.Message == "") workload.Message = code is null ? "exited; its exit code is unknown" : $"exited with code {code}";
            restart = workload.Assignment?.DesiredState == "running" && (policy == "always" || (policy == "on-failure" && code != 0));
            if (restart) (workload.Restarts, workload.Restarting) = (workload.Restarts + 1, true);
            logger.LogInformation("Workload {WorkloadName} ({WorkloadId}) exited with {ExitCode}{Restart}", workload.Name, workload.WorkloadId,
                code?.ToString() ?? "an unknown code", restart ? $"; restarting ({workload.Restarts})" : "");
            workload.Save();
        }
        finally
        {
            workload.Gate.Release();
        }
        if (restart)
        {
            await Task.Delay(Backoff(workload.Restarts), clock);
            await workload.Gate.WaitAsync();
            try
            {
                workload.Restarting = false;
                if (workload.Handle is null && workload.Assignment is { DesiredState: "running" } assignment && workloads.ContainsKey(workload.WorkloadId))
                    await StartProcessAsync(workload, assignment, CancellationToken.None);
                workload.Save();
            }
            finally
            {
                workload.Gate.Release();
            }
        }
        await ReportAsync([workload.ToReport()], CancellationToken.None);
    }

    static TimeSpan Backoff(int restarts) => TimeSpan.FromMilliseconds(Math.Min(250 * Math.Pow(2, Math.Min(restarts - 1, 7)), 30_000));

    /// <summary>Finds the workloads a previous run of the agent left: running ones are re-attached, exited ones recorded.</summary>
    void Recover()
    {
        staging.RemoveStale(clock.GetUtcNow());
        foreach (var workload in LocalWorkload.LoadAll(Root))
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
                (workload.Handle, workload.ExitCode, workload.Power, workload.FinishedAt) = (null, code, code == 0 ? "shutdown" : "crashed", clock.GetUtcNow());
                workload.Message = "exited while the agent was away";
                workload.Save();
            }
        }
    }
}
