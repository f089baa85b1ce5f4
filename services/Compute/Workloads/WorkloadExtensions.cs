namespace Platform.Compute.Workloads;

public static class WorkloadExtensions
{
    public static IHostApplicationBuilder AddWorkloads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Placement>();
        builder.Services.AddSingleton<WorkloadStore>();
        builder.Services.AddSingleton<AssignmentSignals>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AssignmentSignals>());
        builder.Services.AddSingleton<WorkloadEvents>();
        builder.Services.AddSingleton<WorkloadLifecycle>();
        builder.Services.AddSingleton<MigrationLifecycle>();
        return builder;
    }

    public static WebApplication MapWorkloads(this WebApplication app)
    {
        app.MapGrpcService<WorkloadService>();
        app.MapGrpcService<AssignmentService>();
        app.MapGrpcService<MigrationService>();
        return app;
    }
}
