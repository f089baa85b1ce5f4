using System.Net;
using System.Net.Http.Json;

namespace Platform.Gateway.Tests;

/// <summary>Rate limits counted in Redis: shared by two gateway replicas, 429 with Retry-After, stricter on the password routes.</summary>
public sealed class RateLimitTests
{
    static Dictionary<string, string> Limits(string prefix) => new()
    {
        ["Gateway:RateLimits:KeyPrefix"] = prefix,
        ["Gateway:RateLimits:PerCallerPerMinute"] = "8",
        ["Gateway:RateLimits:PerAddressPerMinute"] = "6",
        ["Gateway:RateLimits:AuthPerAddressPerMinute"] = "4",
    };

    [Fact]
    public async Task Two_replicas_count_against_one_limit_and_refuse_with_429_and_Retry_After()
    {
        var prefix = $"test:{Guid.NewGuid():N}";
        await using var first = await GatewayHost.StartAsync(Limits(prefix));
        await using var second = await GatewayHost.StartAsync(Limits(prefix));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
            foreach (var replica in new[] { first, second })
                statuses.Add((await replica.Anonymous().GetAsync("/.well-known/jwks.json")).StatusCode);
        using var refused = await first.Anonymous().GetAsync("/.well-known/jwks.json");

        Assert.Equal(6, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Contains("rate limit", await refused.Content.ReadAsStringAsync());
        // Health probes are never limited.
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await first.Anonymous().GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task Password_routes_have_a_stricter_limit_of_their_own()
    {
        await using var gateway = await GatewayHost.StartAsync(Limits($"test:{Guid.NewGuid():N}"));

        var statuses = new List<HttpStatusCode>();
        // The case and a trailing slash change nothing for routing, and nothing for the limit.
        foreach (var path in new[] { "/api/auth/refresh", "/API/Auth/Refresh", "/api/auth/refresh/", "/api/auth/refresh", "/api/auth/refresh" })
            statuses.Add((await gateway.Anonymous().PostAsJsonAsync(path, new { refreshToken = "rt_unknown" })).StatusCode);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Anonymous().GetAsync("/.well-known/jwks.json")).StatusCode);
        // The attempts the limiter let through are in the audit log; the refused flood wrote nothing.
        await using var db = Npgsql.NpgsqlDataSource.Create(gateway.Host.ConnectionString);
        Assert.Equal(4L, (long)(await db.CreateCommand("SELECT count(*) FROM identity.audit_log WHERE action ILIKE 'POST /api/auth/refresh%'").ExecuteScalarAsync())!);
    }
}
