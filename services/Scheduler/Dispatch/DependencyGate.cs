using Platform.Scheduler.Jobs;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// Slurm's afterok dependencies: a pending job is ready once every job it depends on completed (exit 0); if one of them
/// failed, was cancelled or timed out, it never can be, and the job is cancelled saying which.
/// </summary>
public sealed class DependencyGate(JobStore jobs, JobEvents events, TimeProvider clock)
{
    public async Task<IReadOnlyList<JobRow>> ReadyAsync(IReadOnlyList<JobRow> pending, CancellationToken cancellationToken)
    {
        var needed = pending.SelectMany(j => j.DependsOn).Distinct().ToList();
        var states = needed.Count == 0 ? [] : (await jobs.ManyAsync(needed, cancellationToken)).ToDictionary(j => j.JobId, j => j.Status);
        var ready = new List<JobRow>();
        foreach (var job in pending)
        {
            var broken = job.DependsOn.FirstOrDefault(d => states.GetValueOrDefault(d) is JobStates.Failed or JobStates.Cancelled or JobStates.Timeout);
            if (broken != Guid.Empty)
            {
                var (cancelled, _) = await jobs.TransitionAsync(job.JobId, [JobStates.Pending],
                    j => j with { Status = JobStates.Cancelled, Reason = JobReasons.DependencyFailed, FinishedAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow() },
                    $"job {broken} it depends on is {states[broken]}", cancellationToken);
                if (cancelled is not null) await events.ChangedAsync(cancelled);
            }
            else if (job.DependsOn.All(d => states.GetValueOrDefault(d) == JobStates.Completed))
                ready.Add(job);
        }
        return ready;
    }

    /// <summary>The dependencies of <paramref name="job"/> that have not completed yet.</summary>
    public async Task<IReadOnlyList<string>> WaitingForAsync(JobRow job, CancellationToken cancellationToken) =>
        job.DependsOn.Length == 0 ? [] :
        [.. (await jobs.ManyAsync(job.DependsOn, cancellationToken)).Where(d => d.Status != JobStates.Completed).Select(d => $"{d.JobId} ({d.Status})")];
}
