using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Platform.Onion.Directory;

namespace Platform.Onion.Client;

/// <summary>Circuit figures since the client started: what <c>GET /api/privacy/stats</c> reports.</summary>
public sealed record OnionClientStats(long Built, long Failed, int Active, long BytesSent, long BytesReceived, double? BuildP50Seconds, double? BuildP95Seconds);

/// <summary>
/// Opens streams through the onion network. Circuits are built on demand along a path chosen from a verified
/// consensus, shared by streams until they have been in use for <see cref="MaxCircuitDirtiness"/> (Tor's
/// MaxCircuitDirtiness), then left to finish their streams and closed. Nothing here records a destination.
/// </summary>
public sealed class OnionClient(Func<CancellationToken, Task<ConsensusDocument>> consensus, TimeProvider clock) : IAsyncDisposable
{
    public TimeSpan MaxCircuitDirtiness { get; init; } = TimeSpan.FromMinutes(10);
    const int BuildAttempts = 3;
    const int BuildTimeSamples = 1000;

    readonly ConcurrentDictionary<IPEndPoint, Lazy<Task<(Link Link, ConcurrentDictionary<uint, OnionCircuit> Circuits)>>> guards = new();
    readonly ConcurrentDictionary<OnionCircuit, byte> circuits = new();
    readonly SemaphoreSlim building = new(1, 1);
    readonly ConcurrentQueue<double> buildTimes = new();
    readonly CancellationTokenSource stopping = new();
    long built, failed, closedBytesSent, closedBytesReceived;

    public event Action<OnionCircuit>? CircuitBuilt;
    public event Action<OnionCircuit, DestroyReason>? CircuitClosed;
    public event Action<string>? CircuitFailed;

    public IReadOnlyCollection<OnionCircuit> Circuits => [.. circuits.Keys];

    public OnionClientStats Stats()
    {
        var times = buildTimes.ToArray();
        Array.Sort(times);
        var open = circuits.Keys.ToList();
        return new OnionClientStats(Interlocked.Read(ref built), Interlocked.Read(ref failed), open.Count(c => c.IsOpen),
            Interlocked.Read(ref closedBytesSent) + open.Sum(c => c.BytesSent), Interlocked.Read(ref closedBytesReceived) + open.Sum(c => c.BytesReceived),
            Percentile(times, 0.50), Percentile(times, 0.95));
    }

    static double? Percentile(double[] sorted, double q) => sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    /// <summary>A stream to host:port through a three-hop circuit.</summary>
    public async Task<OnionStream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        OnionException? last = null;
        for (var attempt = 0; attempt < BuildAttempts; attempt++)
        {
            // A failed build or a circuit that died under the stream is tried again on another circuit; what the exit
            // said about the destination (policy, name, refused) is the answer.
            try
            {
                var circuit = await CircuitForAsync(port, cancellationToken);
                return await circuit.OpenStreamAsync(host, port, cancellationToken);
            }
            catch (OnionException ex) when (ex.Data["reason"] is RelayPayloads.EndReason.Destroy or null)
            {
                last = ex;
                // A relay whose consensus is a moment behind the client's refuses the extend: give it that moment.
                if (attempt + 1 < BuildAttempts) await Task.Delay(TimeSpan.FromMilliseconds(500 * (attempt + 1)), cancellationToken);
            }
        }
        throw last ?? new OnionException("no circuit could carry the stream");
    }

    async Task<OnionCircuit> CircuitForAsync(int port, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        bool Reusable(OnionCircuit c) => c.IsOpen && (c.FirstUsedAt is not { } used || now - used < MaxCircuitDirtiness) && PathSelection.AcceptsPort(c.Path[^1], port);
        if (circuits.Keys.FirstOrDefault(Reusable) is { } reusable) return reusable;
        await building.WaitAsync(cancellationToken);
        try
        {
            return circuits.Keys.FirstOrDefault(Reusable) ?? await BuildAsync(port, cancellationToken);
        }
        finally
        {
            building.Release();
        }
    }

    /// <summary>Builds a fresh circuit now (also what the build-time benchmark measures).</summary>
    public async Task<OnionCircuit> BuildAsync(int port, CancellationToken cancellationToken)
    {
        OnionCircuit? circuit = null;
        try
        {
            var path = PathSelection.Choose(await consensus(cancellationToken), port);
            var (link, table) = await GuardLinkAsync(new IPEndPoint(IPAddress.Parse(path[0].Address), path[0].Port), cancellationToken);
            circuit = new OnionCircuit(link, link.NewCircuitId(), path, clock.GetUtcNow());
            table[circuit.Id] = circuit;
            circuits[circuit] = 0;
            circuit.Closed += OnClosed;
            await circuit.BuildAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OnionException or IOException or SocketException or ConsensusRejectedException or OperationCanceledException)
        {
            Interlocked.Increment(ref failed);
            circuit?.Close(DestroyReason.Finished, sendDestroy: true);
            CircuitFailed?.Invoke(ex is OperationCanceledException ? "the build was cancelled" : ex.Message);
            if (ex is OperationCanceledException) throw;
            throw ex as OnionException ?? new OnionException($"building a circuit failed: {ex.Message}");
        }
        Interlocked.Increment(ref built);
        buildTimes.Enqueue(circuit.BuildTime.TotalSeconds);
        while (buildTimes.Count > BuildTimeSamples) buildTimes.TryDequeue(out _);
        CircuitBuilt?.Invoke(circuit);
        return circuit;
    }

    void OnClosed(OnionCircuit circuit, DestroyReason reason)
    {
        if (!circuits.TryRemove(circuit, out _)) return;
        Interlocked.Add(ref closedBytesSent, circuit.BytesSent);
        Interlocked.Add(ref closedBytesReceived, circuit.BytesReceived);
        foreach (var guard in guards.Values)
            if (guard.IsValueCreated && guard.Value.IsCompletedSuccessfully) guard.Value.Result.Circuits.TryRemove(new(circuit.Id, circuit));
        CircuitClosed?.Invoke(circuit, reason);
    }

    /// <summary>Closes circuits that are past their dirtiness and carry no stream: rotation by age.</summary>
    public void CloseExpired()
    {
        var now = clock.GetUtcNow();
        foreach (var circuit in circuits.Keys)
            if (circuit.FirstUsedAt is { } used && now - used >= MaxCircuitDirtiness && circuit.StreamCount == 0)
                circuit.Close(DestroyReason.Finished, sendDestroy: true);
    }

    async Task<(Link, ConcurrentDictionary<uint, OnionCircuit>)> GuardLinkAsync(IPEndPoint guard, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = guards.GetOrAdd(guard, endpoint => new(() => ConnectAsync(endpoint)));
            try
            {
                var result = await lazy.Value.WaitAsync(cancellationToken);
                if (!result.Link.Closed) return result;
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                guards.TryRemove(new(guard, lazy));
                throw new OnionException($"the guard {guard} is unreachable: {ex.Message}");
            }
            guards.TryRemove(new(guard, lazy));
        }
    }

    async Task<(Link, ConcurrentDictionary<uint, OnionCircuit>)> ConnectAsync(IPEndPoint guard)
    {
        var socket = await TcpConnect.ConnectAsync(guard, TcpConnect.DefaultTimeout, stopping.Token);
        var link = new Link(new NetworkStream(socket, ownsSocket: true), initiator: true, guard.ToString());
        var table = new ConcurrentDictionary<uint, OnionCircuit>();
        link.Ended += _ =>
        {
            foreach (var circuit in table.Values) circuit.Close(DestroyReason.OrConnClosed, sendDestroy: false);
        };
        _ = link.RunAsync(cell =>
        {
            if (!table.TryGetValue(Cells.CircuitId(cell), out var circuit)) return ValueTask.CompletedTask;
            try
            {
                circuit.OnCell(cell);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One circuit's failure (closed under it, say) is that circuit's only, never the guard link's.
                circuit.Close(DestroyReason.Internal, sendDestroy: true);
            }
            return ValueTask.CompletedTask;
        }, stopping.Token);
        return (link, table);
    }

    int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        foreach (var circuit in circuits.Keys) circuit.Close(DestroyReason.Finished, sendDestroy: true);
        await stopping.CancelAsync();
        foreach (var guard in guards.Values)
            if (guard.IsValueCreated && guard.Value.IsCompletedSuccessfully) await guard.Value.Result.Link.DisposeAsync();
        stopping.Dispose();
        building.Dispose();
    }
}
