using Platform.Scheduler.Priority;

namespace Platform.Scheduler.Jobs;

public static class JobQueueExtensions
{
    public static IHostApplicationBuilder AddJobQueue(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PriorityOptions>(builder.Configuration.GetSection("Scheduler:Priority"));
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<FairShareStore>();
        builder.Services.AddSingleton<QueueViews>();
        return builder;
    }
}
