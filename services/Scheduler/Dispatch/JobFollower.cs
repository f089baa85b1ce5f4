using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
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
    Workloads.WorkloadsClient workloads, JobStore jobs, JobDispatcher dispatcher, JobEvents events, FairShareStore fairShare,
    IOptions<PlacementOptions> options, TimeProvider clock, ILogger<JobFollower> logger)
{
    /// <summary>A workload this young may be one another replica has just made and not yet recorded: not an orphan yet.</summary>
    static readonly TimeSpan OrphanAge = TimeSpan.FromSeconds(30);

    public async Task FollowAsync(IReadOnlyList<JobRow> placed, CancellationToken cancellationToken)
    {
        var listed = (await workloads.ListWorkloadsAsync(new ListWorkloadsRequest { Label = JobDispatcher.ScheduledByLabel }, cancellationToken: cancellationToken)).Workloads;
        var byId = listed.ToDictionary(w => Guid.Parse(w.WorkloadId));
        foreach (var job in placed.Where(j => j.WorkloadId is not null))
        {
            var workload = byId.GetValueOrDefault(job.WorkloadId!.Value) ?? await GetAsync(job.WorkloadId!.Value, cancellationToken);
            if (workload is not null) dispatcher.Recognise(workload.Owner);
            await FollowAsync(job, workload, cancellationToken);
        }
        foreach (var job in placed.Where(j => j is { Status: JobStates.Scheduled, WorkloadId: not null }))
            if (clock.GetUtcNow() - job.UpdatedAt > options.Value.StartTimeout && byId.TryGetValue(job.WorkloadId!.Value, out var unstarted) && unstarted.PowerState != "running")
                await RequeueAsync(job, JobReasons.StartTimeout, $"its workload did not start within {options.Value.StartTimeout.TotalMinutes:0} minutes", null, cancellationToken);
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
        if (workload.HasExitCode && workload.VmState is "stopped" or "error")
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
            if (moved) await ChargeAsync(job, started, finished, cancellationToken);
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
            {
                await ChargeAsync(job, since, now, cancellationToken);
                await dispatcher.RemoveAsync(job.WorkloadId!.Value, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Sends a placed job back to the queue (its node was lost, its workload never started, or a gold job preempts it)
    /// and removes its workload; a job that failed to run this way <see cref="PlacementOptions.MaxAttempts"/> times
    /// fails instead (preemption is not its fault and does not count). The old copy may still be stopping when the new
    /// one starts: a job runs at least once, not exactly once.
    /// </summary>
    public async Task<bool> RequeueAsync(JobRow job, string reason, string message, string? passedThrough, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var giveUp = reason != JobReasons.Preempted && job.Attempts >= options.Value.MaxAttempts;
        var (requeued, current) = await jobs.TransitionAsync(job.JobId, JobStates.Placed, j => giveUp
            ? j.Finished(JobStates.Failed, JobReasons.TooManyAttempts, null, now)
            : j with { Status = JobStates.Pending, Reason = reason, NodeId = null, WorkloadId = null, StartedAt = null, UpdatedAt = now },
            giveUp ? $"{message}; it has been placed {job.Attempts} times" : message, cancellationToken, passedThrough: passedThrough,
            when: j => j.WorkloadId == job.WorkloadId);
        if (requeued is null) return false;
        logger.LogWarning("Job {JobId} {Outcome}: {Message}", job.JobId, giveUp ? "failed after too many attempts" : "back in the queue", message);
        await events.ChangedAsync(requeued, giveUp ? null : $"job.{reason}");
        if (job is { Status: JobStates.Running, StartedAt: { } started }) await ChargeAsync(job, started, now, cancellationToken);
        if (job.WorkloadId is { } workloadId) await dispatcher.RemoveAsync(workloadId, cancellationToken);
        return true;
    }

    /// <summary>
    /// Counts the CPU time a job held against its owner's fair share, however it ended. The times are the agent's: they
    /// are held within the job's life here (not before it was submitted, not after now).
    /// </summary>
    public Task ChargeAsync(JobRow job, DateTimeOffset started, DateTimeOffset finished, CancellationToken cancellationToken)
    {
        var from = started < job.SubmittedAt ? job.SubmittedAt : started;
        var to = finished > clock.GetUtcNow() ? clock.GetUtcNow() : finished;
        return fairShare.AddAsync(job.Owner, job.CpuMillis / 1000.0 * Math.Max(0, (to - from).TotalSeconds), cancellationToken);
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
        // Only the scheduler's own workloads (once it knows its name at Compute), and none just made.
        if (dispatcher.Identity is not { } identity) return;
        var now = clock.GetUtcNow();
        var held = placed.Where(j => j.WorkloadId is not null).Select(j => j.WorkloadId!.Value).ToHashSet();
        var dispatching = placed.Where(j => j.WorkloadId is null).Select(j => j.JobId.ToString()).ToHashSet();
        foreach (var workload in listed)
        {
            if (workload.Owner != identity || workload.TaskState == "deleting" || held.Contains(Guid.Parse(workload.WorkloadId))
                || now - DateTimeOffset.FromUnixTimeMilliseconds(workload.CreatedAtMs) < OrphanAge) continue;
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
