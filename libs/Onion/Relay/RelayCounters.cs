namespace Platform.Onion.Relay;

/// <summary>What a relay measured since it started: shipped as Telemetry series, never per client or destination.</summary>
public sealed class RelayCounters
{
    long cellsRelayed, circuitsCreated, circuitsDestroyed, protocolViolations, streamsOpened, exitBytes;
    long latencyMicrosTotal, latencySamples;

    /// <summary>Cells this relay carried on circuits, either way: passed on, delivered to it as the last hop, or sealed by it toward the client.</summary>
    public long CellsRelayed => Interlocked.Read(ref cellsRelayed);
    /// <summary>Cells are fixed-size, so bytes relayed are cells × 514.</summary>
    public long BytesRelayed => CellsRelayed * Cells.Size;
    public long CircuitsCreated => Interlocked.Read(ref circuitsCreated);
    public long CircuitsDestroyed => Interlocked.Read(ref circuitsDestroyed);
    public long ProtocolViolations => Interlocked.Read(ref protocolViolations);
    public long StreamsOpened => Interlocked.Read(ref streamsOpened);
    public long ExitBytes => Interlocked.Read(ref exitBytes);

    /// <summary>Mean round trip of CREATE2 → CREATED2 to the relays this one extended to, in seconds (0 before any).</summary>
    public double MeanExtendLatencySeconds
    {
        get
        {
            var samples = Interlocked.Read(ref latencySamples);
            return samples == 0 ? 0 : Interlocked.Read(ref latencyMicrosTotal) / 1e6 / samples;
        }
    }

    internal void CellRelayed() => Interlocked.Increment(ref cellsRelayed);
    internal void CircuitCreated() => Interlocked.Increment(ref circuitsCreated);
    internal void CircuitDestroyed() => Interlocked.Increment(ref circuitsDestroyed);
    internal void ProtocolViolation() => Interlocked.Increment(ref protocolViolations);
    internal void StreamOpened() => Interlocked.Increment(ref streamsOpened);
    internal void ExitTraffic(int bytes) => Interlocked.Add(ref exitBytes, bytes);

    internal void ExtendLatency(TimeSpan elapsed)
    {
        Interlocked.Add(ref latencyMicrosTotal, (long)elapsed.TotalMicroseconds);
        Interlocked.Increment(ref latencySamples);
    }
}
