namespace Platform.ServiceDefaults.Observability;

/// <summary>
/// Lets one log entry through per interval, whatever the rate of the thing it reports (a dead Redis, a publisher gone
/// wrong): a flood of identical warnings tells on-call nothing more than the first. Thread-safe, allocation-free.
/// </summary>
public sealed class LogThrottle(TimeSpan interval)
{
    readonly long intervalMs = (long)interval.TotalMilliseconds;
    long last = long.MinValue / 2;

    /// <summary>True for the first caller of each interval.</summary>
    public bool Allows()
    {
        var now = Environment.TickCount64;
        var seen = Interlocked.Read(ref last);
        return now - seen >= intervalMs && Interlocked.CompareExchange(ref last, now, seen) == seen;
    }
}
