namespace Platform.NodeAgent.Relay;

/// <summary>
/// The relay's self-measured bandwidth, as Tor measures it: the highest average over any 10-second period in the last
/// day, from the bytes it relayed.
/// </summary>
public sealed class BandwidthHistory
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    const int PeriodsPerDay = 8640;

    readonly Queue<long> rates = new();
    readonly Lock gate = new();
    long lastBytes = -1;
    DateTimeOffset lastAt;

    /// <summary>Feeds the relay's byte counter; a reading is taken once a whole period has passed since the last.</summary>
    public void Observe(long bytesRelayed, DateTimeOffset now)
    {
        lock (gate)
        {
            if (lastBytes < 0 || bytesRelayed < lastBytes)
            {
                (lastBytes, lastAt) = (bytesRelayed, now);
                return;
            }
            var elapsed = now - lastAt;
            if (elapsed < Period) return;
            rates.Enqueue((long)((bytesRelayed - lastBytes) / elapsed.TotalSeconds));
            while (rates.Count > PeriodsPerDay) rates.Dequeue();
            (lastBytes, lastAt) = (bytesRelayed, now);
        }
    }

    public long BytesPerSecond
    {
        get { lock (gate) return rates.Count == 0 ? 0 : rates.Max(); }
    }
}
