using System.Diagnostics;
using Npgsql;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;
using StackExchange.Redis;

namespace Platform.Telemetry.Dashboard;

/// <summary>
/// The monitoring system's own health, measured now: the database's and cache's round trips, how fresh the newest
/// sample is, and whether every scrape target answered its last scrape.
/// </summary>
public sealed class MonitoringHealthChecks(NpgsqlDataSource db, IConnectionMultiplexer cache, SampleReader samples, TimeProvider clock)
{
    static readonly TimeSpan SlowRoundTrip = TimeSpan.FromMilliseconds(500);
    static readonly TimeSpan StaleIngest = TimeSpan.FromMinutes(2);

    public async Task<MonitoringHealth> CheckAsync(CancellationToken cancellationToken)
    {
        var checks = new List<HealthCheck> { await DatabaseAsync(cancellationToken), await CacheAsync() };
        checks.Add(await IngestionAsync(cancellationToken));
        checks.Add(await ScrapeTargetsAsync(cancellationToken));
        var health = new MonitoringHealth
        {
            Status = checks.Any(c => c.Status == "unhealthy") ? "unhealthy" : checks.Any(c => c.Status == "degraded") ? "degraded" : "healthy",
        };
        health.Checks.AddRange(checks);
        return health;
    }

    async Task<HealthCheck> DatabaseAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var command = db.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return Check("database", elapsed < SlowRoundTrip ? "healthy" : "degraded", $"round trip {elapsed.TotalMilliseconds:F1} ms");
        }
        catch (NpgsqlException ex)
        {
            return Check("database", "unhealthy", ex.Message);
        }
    }

    async Task<HealthCheck> CacheAsync()
    {
        try
        {
            var latency = await cache.GetDatabase().PingAsync();
            return Check("cache", latency < SlowRoundTrip ? "healthy" : "degraded", $"PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Check("cache", "unhealthy", ex.Message);
        }
    }

    async Task<HealthCheck> IngestionAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT max(time) FROM telemetry.samples WHERE time > $1");
        command.Parameters.Add(new() { Value = clock.GetUtcNow().AddHours(-1) });
        if (await command.ExecuteScalarAsync(cancellationToken) is not DateTime newest)
            return Check("ingestion", "degraded", "no samples in the last hour");
        var age = clock.GetUtcNow() - new DateTimeOffset(newest, TimeSpan.Zero);
        return Check("ingestion", age <= StaleIngest ? "healthy" : "degraded", $"newest sample {Math.Max(0, age.TotalSeconds):F0} s old");
    }

    async Task<HealthCheck> ScrapeTargetsAsync(CancellationToken cancellationToken)
    {
        var up = (await samples.LatestAsync(clock.GetUtcNow().AddMinutes(-5), null, 10_000, cancellationToken)).Where(s => s.Name == "up").ToList();
        var down = up.Where(s => s.Points[^1].Value != 1).Select(s => s.Labels.GetValueOrDefault("job", "?")).ToList();
        return down.Count == 0
            ? Check("scrape_targets", "healthy", $"{up.Count} targets up")
            : Check("scrape_targets", "degraded", $"down: {string.Join(", ", down)}");
    }

    static HealthCheck Check(string name, string status, string detail) => new() { Name = name, Status = status, Detail = detail };
}
