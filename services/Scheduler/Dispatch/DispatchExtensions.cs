namespace Platform.Scheduler.Dispatch;

public static class DispatchExtensions
{
    public static IHostApplicationBuilder AddDispatch(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<JobDispatcher>();
        builder.Services.AddSingleton<JobFollower>();
        builder.Services.AddSingleton<DependencyGate>();
        builder.Services.AddSingleton<Preemption>();
        builder.Services.AddSingleton<LoopWakeups>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LoopWakeups>());
        builder.Services.AddHostedService<SchedulingLoop>();
        return builder;
    }
}
