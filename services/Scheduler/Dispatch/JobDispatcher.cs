using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// Turns a scheduled job into a Compute workload on its node, and removes workloads. The job is marked scheduled
/// (committed) before the workload is asked for, with an idempotency key per job attempt: a Scheduler that crashes in
/// between asks again with the same key and gets the same workload, never a twin.
/// </summary>
public sealed class JobDispatcher(
    Workloads.WorkloadsClient workloads, JobStore jobs, JobEvents events, IOptions<PlacementOptions> options, TimeProvider clock, ILogger<JobDispatcher> logger)
{
    public const string JobLabel = "scheduler-job";
    /// <summary>On every workload the scheduler creates, so one list call finds them all.</summary>
    public const string ScheduledByLabel = "scheduled-by=scheduler";

    public async Task DispatchAsync(JobRow job, CancellationToken cancellationToken)
    {
        var request = new CreateWorkloadRequest
        {
            Name = job.Name, Driver = job.Driver, Command = job.Command, Image = job.Image, CpuMillis = job.CpuMillis, MemoryBytes = job.MemoryMib << 20,
            GpuCount = job.GpuCount, NodeId = job.NodeId!.Value.ToString(), RestartPolicy = "never", IdempotencyKey = job.DispatchKey,
            NodeSelector = { job.NodeSelector }, Labels = { ["scheduled-by"] = "scheduler", [JobLabel] = job.JobId.ToString(), ["sla-tier"] = job.SlaTier },
        };
        request.Args.AddRange(job.Args);
        WorkloadOperation created;
        try
        {
            created = await workloads.CreateWorkloadAsync(request, cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.AlreadyExists)
        {
            // Compute will never run it as asked (a rule of its own the job's request breaks): placing it again would not help.
            var (refused, _) = await jobs.TransitionAsync(job.JobId, [JobStates.Scheduled],
                j => j.Finished(JobStates.Failed, JobReasons.Refused, null, clock.GetUtcNow()) with { NodeId = null },
                $"Compute refused the workload: {ex.Status.Detail}", cancellationToken, when: j => j.WorkloadId is null);
            logger.LogWarning("Job {JobId} failed: Compute refused its workload ({Reason})", job.JobId, ex.Status.Detail);
            if (refused is not null) await events.ChangedAsync(refused);
            return;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.ResourceExhausted or StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            // No room there after all (the node filled up meanwhile, or went away): the job waits for the next solve, a few times.
            var giveUp = job.Attempts >= options.Value.MaxAttempts;
            var (requeued, _) = await jobs.TransitionAsync(job.JobId, [JobStates.Scheduled], j => giveUp
                ? j.Finished(JobStates.Failed, JobReasons.TooManyAttempts, null, clock.GetUtcNow()) with { NodeId = null }
                : j with { Status = JobStates.Pending, Reason = JobReasons.DispatchFailed, NodeId = null, WorkloadId = null, UpdatedAt = clock.GetUtcNow() },
                $"Compute refused the workload: {ex.Status.Detail}", cancellationToken, when: j => j.WorkloadId is null && j.Attempts == job.Attempts);
            logger.LogWarning("Job {JobId} not dispatched to node {NodeId}: {Reason}", job.JobId, job.NodeId, ex.Status.Detail);
            if (requeued is not null) await events.ChangedAsync(requeued);
            return;
        }
        var workloadId = Guid.Parse(created.Workload.WorkloadId);
        Identity = created.Workload.Owner;
        // Only for the attempt it was made for: a late answer for an attempt since requeued must not be taken for the new one.
        var (recorded, current) = await jobs.TransitionAsync(job.JobId, [JobStates.Scheduled, JobStates.Running],
            j => j with { WorkloadId = workloadId }, "", cancellationToken, when: j => j.Attempts == job.Attempts && (j.WorkloadId is null || j.WorkloadId == workloadId));
        if (recorded is null)
        {
            // Cancelled (or requeued) while the workload was being created: it must not run.
            logger.LogInformation("Job {JobId} is {Status}: removing the workload just created for it", job.JobId, current?.Status);
            await RemoveAsync(workloadId, cancellationToken);
            return;
        }
        logger.LogInformation("Job {JobId} dispatched as workload {WorkloadId} on node {NodeId} (attempt {Attempt})", job.JobId, workloadId, job.NodeId, job.Attempts);
    }

    /// <summary>Deletes a workload (the agent stops it first); one already gone or going is fine.</summary>
    public async Task RemoveAsync(Guid workloadId, CancellationToken cancellationToken)
    {
        try
        {
            await workloads.DeleteWorkloadAsync(new WorkloadRequest { WorkloadId = workloadId.ToString() }, cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.Aborted)
        {
        }
    }

    /// <summary>Who Compute takes the scheduler for (its workloads' owner), once it has created one; null before.</summary>
    public string? Identity { get; private set; }

    /// <summary>Learns the scheduler's owner name from a workload known to be its own.</summary>
    public void Recognise(string owner) => Identity ??= owner;
}
