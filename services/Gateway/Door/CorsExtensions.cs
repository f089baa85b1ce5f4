namespace Platform.Gateway.Door;

/// <summary>
/// Browsers may call the gateway only from the configured origins (<c>Gateway:Cors:Origins</c>, comma-separated; the
/// control panel's by default). Tokens travel in headers, never cookies, so no credentials are allowed cross-origin.
/// </summary>
public static class CorsExtensions
{
    const string DefaultOrigins = "http://127.0.0.1:3000,http://localhost:3000";

    public static IHostApplicationBuilder AddGatewayCors(this IHostApplicationBuilder builder)
    {
        var origins = (builder.Configuration["Gateway:Cors:Origins"] is { Length: > 0 } configured ? configured : DefaultOrigins)
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
            .WithOrigins(origins)
            .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "X-Request-Id", "Idempotency-Key")
            .WithExposedHeaders("Retry-After", "X-Request-Id")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return builder;
    }
}
