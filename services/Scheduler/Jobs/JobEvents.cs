using Platform.ServiceDefaults.Cache;

namespace Platform.Scheduler.Jobs;

/// <summary><c>job.&lt;status&gt;</c> events on <c>platform.events.jobs</c>, after the change is committed; the job as the API shows it.</summary>
public sealed class JobEvents(EventPublisher events, TimeProvider clock)
{
    public Task ChangedAsync(JobRow job, string? type = null) =>
        events.PublishAsync("jobs", type ?? $"job.{job.Status}", job.ToMessage(clock.GetUtcNow()));
}
