using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Health;
using Platform.ServiceDefaults.Hosting;
using Platform.ServiceDefaults.Observability;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every platform service adds first and maps last.</summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddPlatformObservability();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHealthChecks().AddCheck("self", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy(), [HealthEndpoints.LiveTag]);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        builder.AddPlatformAuth();
        builder.Services.AddHostedService<ParentProcessWatcher>();
        return builder;
    }

    /// <summary>
    /// Request ids, authentication, then <paramref name="afterAuthentication"/> (what must know the caller and still
    /// see the requests authorization refuses: the gateway's rate limits and audit log), authorization, health and metrics.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, Action<WebApplication>? afterAuthentication = null)
    {
        app.UseRequestIdScope();
        app.UsePlatformAuthentication();
        afterAuthentication?.Invoke(app);
        app.UseAuthorization();
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
