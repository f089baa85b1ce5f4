using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Platform.Gateway.Door;

/// <summary>
/// A window counted in Redis, shared by every gateway replica, that falls back to a window counted in this process
/// while Redis cannot be reached (restarting, failing over, cut off). Requests neither fail with 500 nor go unlimited
/// meanwhile: each replica enforces the same limit on its own until Redis answers again, then the shared count resumes.
/// </summary>
public sealed class FailSafeRateLimiter(RateLimiter shared, RateLimiter local, IConnectionMultiplexer redis, ILogger logger) : RateLimiter
{
    static long lastWarning;

    public override TimeSpan? IdleDuration => (shared.IdleDuration, local.IdleDuration) switch
    {
        (null, _) or (_, null) => null,
        var (a, b) => a < b ? a : b,
    };

    public override RateLimiterStatistics? GetStatistics() => redis.IsConnected ? shared.GetStatistics() : local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => local.AttemptAcquire(permitCount);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        // A multiplexer that knows it is disconnected is not asked: each request would wait for its timeout.
        if (redis.IsConnected)
        {
            try
            {
                return await shared.AcquireAsync(permitCount, cancellationToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Warn(ex);
            }
        }
        else Warn(null);
        return await local.AcquireAsync(permitCount, cancellationToken);
    }

    /// <summary>At most one warning every ten seconds, whatever the request rate.</summary>
    void Warn(Exception? ex)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastWarning);
        if (now - last < 10_000 || Interlocked.CompareExchange(ref lastWarning, now, last) != last) return;
        logger.LogWarning(ex, "Redis unreachable: rate limits are counted by this gateway alone until it answers again");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            shared.Dispose();
            local.Dispose();
        }
        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await shared.DisposeAsync();
        await local.DisposeAsync();
    }
}
