using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Platform.Gateway.Door;

/// <summary>
/// A window counted in Redis, shared by every gateway replica, that falls back to a window counted in this process
/// while Redis cannot be reached (restarting, failing over, cut off). Requests neither fail with 500 nor go unlimited
/// meanwhile: each replica enforces the same limit on its own until Redis answers again, then the shared count resumes.
/// </summary>
public sealed class FailSafeRateLimiter(RateLimiter shared, RateLimiter local, TimeSpan window, IConnectionMultiplexer redis, ILogger logger) : RateLimiter
{
    static readonly Platform.ServiceDefaults.Observability.LogThrottle Warnings = new(TimeSpan.FromSeconds(10));
    long lastUsed = Environment.TickCount64;

    /// <summary>
    /// Idle once a whole window has passed unused (the local count is spent by then), so the partitioned limiter lets go
    /// of partitions nobody uses — a caller rotating addresses does not keep one alive each. In use otherwise.
    /// </summary>
    public override TimeSpan? IdleDuration =>
        TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref lastUsed)) is var idle && idle >= window ? idle : null;

    public override RateLimiterStatistics? GetStatistics() => redis.IsConnected ? null : local.GetStatistics();

    /// <summary>
    /// The middleware tries this before <see cref="AcquireAsyncCore"/>: while Redis is up, only Redis counts (its limiter
    /// refuses every synchronous attempt, so the request goes on to the shared count and is not counted twice).
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref lastUsed, Environment.TickCount64);
        return redis.IsConnected ? shared.AttemptAcquire(permitCount) : Local(() => local.AttemptAcquire(permitCount));
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref lastUsed, Environment.TickCount64);
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
        return Local(() => local.AttemptAcquire(permitCount));
    }

    /// <summary>A partition let go of just as a request took it: that one request is not refused for it.</summary>
    static RateLimitLease Local(Func<RateLimitLease> acquire)
    {
        try { return acquire(); }
        catch (ObjectDisposedException) { return Granted.Instance; }
    }

    /// <summary>At most one warning every ten seconds, whatever the request rate.</summary>
    void Warn(Exception? ex)
    {
        if (Warnings.Allows()) logger.LogWarning(ex, "Redis unreachable: rate limits are counted by this gateway alone until it answers again");
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

    sealed class Granted : RateLimitLease
    {
        public static readonly Granted Instance = new();
        public override bool IsAcquired => true;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
