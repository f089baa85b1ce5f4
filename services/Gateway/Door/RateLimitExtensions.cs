using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Platform.Gateway.Identity;
using Platform.ServiceDefaults.Auth;
using RedisRateLimiting;
using StackExchange.Redis;

namespace Platform.Gateway.Door;

/// <summary>
/// Fixed-window rate limits kept in Redis (RedisRateLimiting's scripts), so every gateway replica counts against the
/// same windows (each replica counts alone while Redis is away: <see cref="FailSafeRateLimiter"/>): per caller (the
/// token's subject) for authenticated requests, per client address otherwise, and a stricter per-address limit on the
/// routes that check passwords and secrets. A refusal is a 429 with Retry-After.
/// </summary>
public static class RateLimitExtensions
{
    static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    static readonly string[] AuthPaths = ["/api/auth/login", "/auth/login", "/api/auth/refresh", "/api/auth/register", "/auth/register", "/api/auth/token", "/api/auth/password"];

    public static IHostApplicationBuilder AddGatewayRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RateLimitOptions>(builder.Configuration.GetSection("Gateway:RateLimits"));
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await ApiErrors.Status(StatusCodes.Status429TooManyRequests, 8, $"rate limit reached; try again in {seconds} s").ExecuteAsync(context.HttpContext);
            };
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
        });
        return builder;
    }

    static RateLimitPartition<string> Partition(HttpContext context)
    {
        var limits = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>().Value;
        // Routing ignores case and a trailing slash: so does the choice of limit.
        var path = (context.Request.Path.Value ?? "").TrimEnd('/').ToLowerInvariant();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var (key, limit) = path is "/health" or "/alive" ? ("", 0)
            : AuthPaths.Contains(path) ? ($"auth:{address}", limits.AuthPerAddressPerMinute)
            : context.User.Identity?.IsAuthenticated == true ? ($"caller:{Callers.Name(context.User)}", limits.PerCallerPerMinute)
            : ($"address:{address}", limits.PerAddressPerMinute);
        if (limit <= 0) return RateLimitPartition.GetNoLimiter("");
        var redis = context.RequestServices.GetRequiredService<IConnectionMultiplexer>();
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimitExtensions));
        var partition = $"{limits.KeyPrefix}:{key}";
        return RateLimitPartition.Get(partition, name => new FailSafeRateLimiter(
            new RedisFixedWindowRateLimiter<string>(name, new RedisFixedWindowRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                PermitLimit = limit,
                Window = Window,
            }),
            new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = Window, QueueLimit = 0 }),
            Window, redis, logger));
    }
}
