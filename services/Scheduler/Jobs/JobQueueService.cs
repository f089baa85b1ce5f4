using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Auth;

namespace Platform.Scheduler.Jobs;

/// <summary>The job queue as clients see it.</summary>
public sealed class JobQueueService(JobStore store) : V1.Scheduler.SchedulerBase
{
    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var response = new ListJobsResponse();
        response.Jobs.AddRange(await store.ListAsync(context.CancellationToken));
        return response;
    }
}
