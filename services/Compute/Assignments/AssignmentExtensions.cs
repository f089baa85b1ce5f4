namespace Platform.Compute.Assignments;

public static class AssignmentExtensions
{
    public static IHostApplicationBuilder AddAssignments(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AssignmentStore>();
        builder.Services.AddSingleton<ReportLifecycle>();
        return builder;
    }
}
