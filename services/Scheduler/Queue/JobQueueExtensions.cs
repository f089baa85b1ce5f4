using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.Scheduler.Priority;

namespace Platform.Scheduler.Queue;

public static class JobQueueExtensions
{
    public static IHostApplicationBuilder AddJobQueue(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PriorityOptions>(builder.Configuration.GetSection("Scheduler:Priority"));
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobEvents>();
        builder.Services.AddSingleton<FairShareStore>();
        builder.Services.AddSingleton<QueueViews>();
        builder.Services.AddSingleton<JobExplainer>();
        return builder;
    }
}
