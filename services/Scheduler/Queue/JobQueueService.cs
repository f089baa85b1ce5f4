using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Scheduler.Dispatch;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.Scheduler.Priority;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Queue;

/// <summary>
/// Seed 003's job queue: submit, list, get (with history and blockers), update while pending, cancel, a job's
/// priority, the queue's statistics and the nodes as the scheduler sees them. Viewers see their own jobs only.
/// </summary>
public sealed class JobQueueService(
    JobStore jobs, JobDispatcher dispatcher, JobFollower follower, JobEvents events, JobExplainer explainer, FairShareStore fairShare, QueueViews views,
    TimeProvider clock, ILogger<JobQueueService> logger) : V1.Scheduler.SchedulerBase
{
    const int DefaultPageSize = 50;
    const int MaxPageSize = 500;

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        var now = clock.GetUtcNow();
        var job = JobRequests.NewJob(request, context.Caller(), now);
        await jobs.InsertAsync(job, context.CancellationToken);
        logger.LogInformation("Job {JobId} ({Name}, {Tier}) submitted by {Owner}", job.JobId, job.Name, job.SlaTier, job.Owner);
        await events.ChangedAsync(job, "job.submitted");
        return new SubmitJobResponse { Success = true, JobId = job.JobId.ToString(), Status = job.Status, Sla = job.SlaTier, Job = job.ToMessage(now) };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var after = KeysetPageToken.Parse(request.PageToken) is { } position ? new JobRow { SubmittedAt = position.At, JobId = position.Id } : null;
        new RequestValidation()
            .Require(request.State == "" || JobStates.All.Contains(request.State), "state", $"must be one of {string.Join(", ", JobStates.All)}")
            .Require(request.SlaTier == "" || SlaTiers.All.Contains(request.SlaTier), "sla_tier", "must be gold, silver or bronze")
            .Require(pageSize is > 0 and <= MaxPageSize, "page_size", $"must be between 1 and {MaxPageSize}")
            .Require(request.PageToken == "" || after is not null, "page_token", "is not a token this API gave out")
            .ThrowIfInvalid();
        var user = context.GetHttpContext().User;
        var owner = JobVisibility.SeesAll(user) ? request.Owner : Callers.Name(user);
        var page = await jobs.ListAsync(new JobFilter(request.State, request.SlaTier, owner, after, pageSize + 1), context.CancellationToken);
        var priorities = await PrioritiesAsync(page, context.CancellationToken);
        var now = clock.GetUtcNow();
        var response = new ListJobsResponse();
        response.Jobs.AddRange(page.Take(pageSize).Select(j => j.ToMessage(now, priorities?.Of(j) ?? 0)));
        if (page.Count > pageSize) response.NextPageToken = KeysetPageToken.Of(page[pageSize - 1].SubmittedAt, page[pageSize - 1].JobId);
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Job> GetJob(JobRequest request, ServerCallContext context)
    {
        var job = await VisibleJobAsync(request.JobId, context);
        var priorities = await PrioritiesAsync([job], context.CancellationToken);
        var message = job.ToMessage(clock.GetUtcNow(), priorities?.Of(job) ?? 0);
        message.History.AddRange((await jobs.HistoryAsync(job.JobId, context.CancellationToken)).Select(t => new JobTransition
        {
            Status = t.Status, Reason = t.Reason, Message = t.Message, NodeId = t.NodeId?.ToString() ?? "", Attempt = t.Attempt, AtMs = t.At.ToUnixTimeMilliseconds(),
        }));
        await explainer.ExplainAsync(job, message, context.CancellationToken);
        return message;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Job> UpdateJob(UpdateJobRequest request, ServerCallContext context)
    {
        var job = await VisibleJobAsync(request.JobId, context);
        var now = clock.GetUtcNow();
        JobRequests.Apply(job, request, now); // every field checked before the row is locked
        var (updated, current) = await jobs.TransitionAsync(job.JobId, [JobStates.Pending], j => JobRequests.Apply(j, request, now) with { Reason = "updated" },
            $"updated by {context.Caller()}", context.CancellationToken, record: true);
        if (updated is null) throw new JobStateConflict(current!, "only a pending job can be changed");
        await events.ChangedAsync(updated, "job.updated");
        return updated.ToMessage(now);
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Job> CancelJob(JobRequest request, ServerCallContext context)
    {
        var job = await VisibleJobAsync(request.JobId, context);
        var now = clock.GetUtcNow();
        JobRow was = job;
        var (cancelled, current) = await jobs.TransitionAsync(job.JobId, [JobStates.Pending, .. JobStates.Placed],
            j => (was = j).Finished(JobStates.Cancelled, JobReasons.Cancelled, null, now), $"cancelled by {context.Caller()}", context.CancellationToken);
        if (cancelled is null) throw new JobStateConflict(current!, "the job has finished");
        logger.LogInformation("Job {JobId} cancelled by {Caller} (it was {Status})", job.JobId, context.Caller(), was.Status);
        if (was is { Status: JobStates.Running, StartedAt: { } started }) await follower.ChargeAsync(was, started, now, context.CancellationToken);
        // Its workload is stopped and removed; should Compute not answer now, the loop removes it as an orphan.
        if (cancelled.WorkloadId is { } workloadId)
        {
            try
            {
                await dispatcher.RemoveAsync(workloadId, context.CancellationToken);
            }
            catch (RpcException ex)
            {
                logger.LogWarning("Workload {WorkloadId} of cancelled job {JobId} not removed yet: {Detail}", workloadId, job.JobId, ex.Status.Detail);
            }
        }
        await events.ChangedAsync(cancelled);
        return cancelled.ToMessage(now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<JobPriority> GetJobPriority(JobRequest request, ServerCallContext context)
    {
        var job = await VisibleJobAsync(request.JobId, context);
        return (await fairShare.PrioritiesAsync(await views.ClusterCpuMillisAsync(context.CancellationToken) ?? 0, context.CancellationToken)).Explain(job);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<SchedulerStats> GetStats(GetStatsRequest request, ServerCallContext context) => views.StatsAsync(context.CancellationToken);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<ListNodesResponse> ListNodes(ListNodesRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        return views.NodesAsync(job => JobVisibility.MaySee(user, job), context.CancellationToken);
    }

    async Task<MultifactorPriority?> PrioritiesAsync(IReadOnlyList<JobRow> page, CancellationToken cancellationToken) =>
        page.Count == 0 ? null : await fairShare.PrioritiesAsync(await views.ClusterCpuMillisAsync(cancellationToken) ?? 0, cancellationToken);

    /// <summary>The job, if the caller may see it: its owner, or an operator or admin. Another's job is NotFound to a viewer.</summary>
    async Task<JobRow> VisibleJobAsync(string jobId, ServerCallContext context)
    {
        var id = RequestValidation.RequireGuid(jobId, "job_id");
        var user = context.GetHttpContext().User;
        var job = await jobs.GetAsync(id, context.CancellationToken);
        return job is not null && JobVisibility.MaySee(user, job) ? job
            : throw new RpcException(new Status(StatusCode.NotFound, $"job {jobId} does not exist"));
    }
}

/// <summary>An action the job's state does not allow: ABORTED (HTTP 409) with the current status.</summary>
public sealed class JobStateConflict(JobRow job, string why) : ConflictException("JOB_STATE", $"job {job.JobId} is {job.Status}: {why}")
{
    public override IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string> { ["status"] = job.Status };
}
