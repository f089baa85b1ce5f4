using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.Gateway.Health;

/// <summary>The gateway's <c>/health</c> includes every routed service's own <c>/health</c>.</summary>
public static class ServiceHealthAggregation
{
    public static IHostApplicationBuilder AddServiceHealthAggregation(this IHostApplicationBuilder builder)
    {
        var services = builder.Configuration.GetSection("ReverseProxy:Clusters").GetChildren().Select(c => c.Key).ToArray();
        var checks = builder.Services.AddHealthChecks();
        foreach (var service in services)
        {
            builder.Services.AddHttpClient($"health-{service}", client =>
            {
                client.BaseAddress = new Uri($"http://{service}");
                client.Timeout = TimeSpan.FromSeconds(5);
            });
            checks.Add(new HealthCheckRegistration(service, sp => new ServiceHealthCheck(sp.GetRequiredService<IHttpClientFactory>(), service), HealthStatus.Unhealthy, ["services"]));
        }
        return builder;
    }
}

/// <summary>Healthy when the service answers its own <c>/health</c> with success.</summary>
public sealed class ServiceHealthCheck(IHttpClientFactory clients, string service) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await clients.CreateClient($"health-{service}").GetAsync("/health", cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, $"{service} answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{service} is unreachable");
        }
    }
}
