namespace Platform.Telemetry.Alerts;

public static class AlertingExtensions
{
    public static IHostApplicationBuilder AddAlerting(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<AlertingOptions>(builder.Configuration.GetSection("Telemetry:Alerts"));
        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        return builder;
    }
}
