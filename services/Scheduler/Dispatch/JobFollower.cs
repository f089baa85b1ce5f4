using Grpc.Core;
using Platform.Compute.V1;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Priority;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// Follows the placed jobs through their workloads, one list call a round, whether or not the workload events
/// arrived: running when the agent reports it so; completed or failed with the process's exit code (its CPU time then
/// counts against the owner's fair share, and the workload is removed, freeing the node); back to pending when its node
/// was lost; timeout past the maximum runtime; failed if someone deleted the workload. Workloads of jobs that finished
/// meanwhile (a cancel whose delete did not get through) are removed.
/// </summary>
public sealed class JobFollower(
    Workloads.WorkloadsClient workloads, JobStore jobs, JobDispatcher dispatcher, JobEvents events, FairShareStore fairShare, TimeProvider clock,
    ILogger<JobFollower> logger)
{
    public async Task FollowAsync(IReadOnlyList<JobRow> placed, CancellationToken cancellationToken)
    {
        var listed = (await workloads.ListWorkloadsAsync(new ListWorkloadsRequest { Label = JobDispatcher.ScheduledByLabel }, cancellationToken: cancellationToken)).Workloads;
        var byId = listed.ToDictionary(w => Guid.Parse(w.WorkloadId));
        foreach (var job in placed.Where(j => j.WorkloadId is not null))
        {
            var workload = byId.GetValueOrDefault(job.WorkloadId!.Value) ?? await GetAsync(job.WorkloadId!.Value, cancellationToken);
            await FollowAsync(job, workload, cancellationToken);
        }
        await RemoveOrphansAsync(listed, placed, cancellationToken);
    }

    async Task FollowAsync(JobRow job, Workload? workload, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (workload is null || workload.VmState == "deleted")
        {
            await MoveAsync(job, j => j.Finished(JobStates.Failed, JobReasons.WorkloadGone, null, now), "its workload was deleted outside the scheduler", cancellationToken);
            return;
        }
        if (workload.VmState == "lost")
        {
            await RequeueAsync(job, JobReasons.NodeLost, $"node {workload.NodeId} was lost", null, cancellationToken);
            return;
        }
        if (workload.HasExitCode && workload.FinishedAtMs > 0 && workload.VmState is "stopped" or "error")
        {
            var status = workload.ExitCode == 0 ? JobStates.Completed : JobStates.Failed;
            var started = job.StartedAt ?? FromMs(workload.StartedAtMs) ?? now;
            // A job that ran and ended between two rounds still ran: its history says so.
            if (job.Status == JobStates.Scheduled)
            {
                if (!await MoveAsync(job, j => j with { Status = JobStates.Running, Reason = JobReasons.Started, StartedAt = started, UpdatedAt = started }, "", cancellationToken)) return;
                job = job with { Status = JobStates.Running, StartedAt = started };
            }
            var finished = FromMs(workload.FinishedAtMs) ?? now;
            var moved = await MoveAsync(job, j => j.Finished(status, JobReasons.Exited, workload.ExitCode, finished) with { StartedAt = started },
                $"the process exited with code {workload.ExitCode}", cancellationToken);
            if (moved) await fairShare.AddAsync(job.Owner, job.CpuMillis / 1000.0 * Math.Max(0, (finished - started).TotalSeconds), cancellationToken);
            await dispatcher.RemoveAsync(job.WorkloadId!.Value, cancellationToken);
            return;
        }
        if (workload.VmState == "error")
        {
            await MoveAsync(job, j => j.Finished(JobStates.Failed, JobReasons.WorkloadFailed, null, now), workload.Message, cancellationToken);
            await dispatcher.RemoveAsync(job.WorkloadId!.Value, cancellationToken);
            return;
        }
        if (job.Status == JobStates.Scheduled && workload.PowerState == "running")
        {
            var started = FromMs(workload.StartedAtMs) ?? now;
            await MoveAsync(job, j => j with { Status = JobStates.Running, Reason = JobReasons.Started, StartedAt = started, UpdatedAt = now }, "", cancellationToken);
            return;
        }
        if (job is { Status: JobStates.Running, MaxRuntimeS: > 0, StartedAt: { } since } && now - since > TimeSpan.FromSeconds(job.MaxRuntimeS))
        {
            if (await MoveAsync(job, j => j.Finished(JobStates.Timeout, JobReasons.MaxRuntime, null, now), $"ran longer than its maximum of {job.MaxRuntimeS} s", cancellationToken))
                await dispatcher.RemoveAsync(job.WorkloadId!.Value, cancellationToken);
        }
    }

    /// <summary>Sends a placed job back to the queue (its node was lost, or a gold job preempts it) and removes its workload.</summary>
    public async Task<bool> RequeueAsync(JobRow job, string reason, string message, string? passedThrough, CancellationToken cancellationToken)
    {
        var (requeued, _) = await jobs.TransitionAsync(job.JobId, JobStates.Placed, j => j with
        {
            Status = JobStates.Pending, Reason = reason, NodeId = null, WorkloadId = null, StartedAt = null, UpdatedAt = clock.GetUtcNow(),
        }, message, cancellationToken, passedThrough: passedThrough);
        if (requeued is null) return false;
        logger.LogWarning("Job {JobId} back in the queue: {Message}", job.JobId, message);
        await events.ChangedAsync(requeued, $"job.{reason}");
        if (job.WorkloadId is { } workloadId) await dispatcher.RemoveAsync(workloadId, cancellationToken);
        return true;
    }

    async Task<bool> MoveAsync(JobRow job, Func<JobRow, JobRow> change, string message, CancellationToken cancellationToken)
    {
        var (moved, _) = await jobs.TransitionAsync(job.JobId, [job.Status], change, message, cancellationToken);
        if (moved is null) return false;
        logger.LogInformation("Job {JobId} is {Status} ({Reason}) {Message}", job.JobId, moved.Status, moved.Reason, message);
        await events.ChangedAsync(moved);
        return true;
    }

    async Task RemoveOrphansAsync(IEnumerable<Workload> listed, IReadOnlyList<JobRow> placed, CancellationToken cancellationToken)
    {
        var held = placed.Where(j => j.WorkloadId is not null).Select(j => j.WorkloadId!.Value).ToHashSet();
        var dispatching = placed.Where(j => j.WorkloadId is null).Select(j => j.JobId.ToString()).ToHashSet();
        foreach (var workload in listed)
        {
            // (An operator could label a workload of their own so; they may delete any workload anyway, so nothing is gained.)
            if (workload.TaskState == "deleting" || held.Contains(Guid.Parse(workload.WorkloadId))) continue;
            // A workload being created for a scheduled job is not an orphan yet: the dispatcher records it next.
            if (workload.Labels.TryGetValue(JobDispatcher.JobLabel, out var jobId) && dispatching.Contains(jobId)) continue;
            logger.LogInformation("Removing workload {WorkloadId}: its job {JobId} no longer holds it", workload.WorkloadId, jobId);
            await dispatcher.RemoveAsync(Guid.Parse(workload.WorkloadId), cancellationToken);
        }
    }

    async Task<Workload?> GetAsync(Guid workloadId, CancellationToken cancellationToken)
    {
        try
        {
            return await workloads.GetWorkloadAsync(new WorkloadRequest { WorkloadId = workloadId.ToString() }, cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    static DateTimeOffset? FromMs(long ms) => ms > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
}
