using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Platform.Onion.Relay;

/// <summary>
/// A relay: accepts links from clients and relays, answers CREATE2 with ntor, and moves cells along each circuit. It
/// knows a circuit only by its neighbours on that circuit (the previous link and circuit ID, the next ones) and never
/// logs a client's address next to a destination: exits log nothing per stream. A cell that breaks the protocol or
/// fails authentication destroys its circuit; the relay and its other circuits go on.
/// </summary>
public sealed class OnionRelay(RelayIdentity identity, OnionKeyRing onionKeys, ExitPolicy exitPolicy, ILogger logger) : IAsyncDisposable
{
    public const int MaxCircuitsPerLink = 1024;
    public const int MaxLinks = 1024;
    /// <summary>Violations one link may commit before the relay hangs up on it.</summary>
    public const int MaxViolationsPerLink = 32;

    readonly CancellationTokenSource stopping = new();
    readonly ConcurrentDictionary<Link, byte> links = new();
    readonly ConcurrentDictionary<(Link, uint), RelayCircuit> byPrevious = new();
    readonly ConcurrentDictionary<(Link, uint), RelayCircuit> byNext = new();
    readonly ConcurrentDictionary<IPEndPoint, Lazy<Task<Link>>> outbound = new();
    readonly ConcurrentDictionary<Link, int> circuitsOnLink = new();
    TcpListener? listener;

    public RelayCounters Counters { get; } = new();
    public RelayIdentity Identity => identity;
    public OnionKeyRing OnionKeys => onionKeys;
    public ExitPolicy ExitPolicy => exitPolicy;
    internal ILogger Logger => logger;
    public IPEndPoint? Endpoint { get; private set; }

    /// <summary>
    /// Where EXTEND2 may take a circuit: by default anywhere; a relay in a network sets it to "a relay listed in the
    /// consensus at that address, with that identity", so a client cannot make it connect to arbitrary hosts.
    /// </summary>
    public Func<IPEndPoint, byte[], Task<bool>> ExtendAllowed { get; set; } = (_, _) => Task.FromResult(true);

    /// <summary>Open links now (what the relay can see of the network: only its neighbours), with the cells each carried.</summary>
    public IReadOnlyList<LinkInfo> Links => [.. links.Keys.Select(l => new LinkInfo(l.Peer, l.Initiator, l.CellsIn + l.CellsOut))];

    public sealed record LinkInfo(string Peer, bool Outbound, long Cells);
    public int ActiveCircuits => byPrevious.Count;

    public IPEndPoint Start(IPEndPoint listen)
    {
        listener = new TcpListener(listen);
        listener.Start(512);
        Endpoint = (IPEndPoint)listener.LocalEndpoint;
        _ = AcceptAsync(listener);
        return Endpoint;
    }

    async Task AcceptAsync(TcpListener server)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await server.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stopping.IsCancellationRequested) return;
                // Out of descriptors, say: wait a little rather than spin.
                try { await Task.Delay(100, stopping.Token); } catch (OperationCanceledException) { return; }
                continue;
            }
            if (links.Count >= MaxLinks)
            {
                socket.Dispose();
                continue;
            }
            socket.NoDelay = true;
            Run(new Link(new NetworkStream(socket, ownsSocket: true), initiator: false, socket.RemoteEndPoint?.ToString() ?? "?"));
        }
    }

    void Run(Link link)
    {
        links.TryAdd(link, 0);
        link.Ended += OnLinkEnded;
        _ = link.RunAsync(cell => OnCell(link, cell), stopping.Token);
    }

    void OnLinkEnded(Link link)
    {
        links.TryRemove(link, out _);
        circuitsOnLink.TryRemove(link, out _);
        foreach (var ((l, _), circuit) in byPrevious) if (l == link) Teardown(circuit, DestroyReason.OrConnClosed, from: link);
        foreach (var ((l, _), circuit) in byNext) if (l == link) Teardown(circuit, DestroyReason.OrConnClosed, from: link);
        foreach (var (endpoint, pending) in outbound)
            if (pending.IsValueCreated && pending.Value.IsCompletedSuccessfully && pending.Value.Result == link) outbound.TryRemove(endpoint, out _);
    }

    ValueTask OnCell(Link link, byte[] cell)
    {
        try
        {
            Dispatch(link, cell);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever one circuit's cell breaks, it breaks that circuit only: never the link or the relay.
            var id = Cells.CircuitId(cell);
            if (byPrevious.TryGetValue((link, id), out var circuit) || byNext.TryGetValue((link, id), out circuit)) Violation(circuit);
            logger.LogDebug(ex, "A cell broke its circuit");
        }
        return ValueTask.CompletedTask;
    }

    void Dispatch(Link link, byte[] cell)
    {
        var id = Cells.CircuitId(cell);
        var command = Cells.Command(cell);
        if (command == CellCommand.Padding) return;
        if (byPrevious.TryGetValue((link, id), out var circuit))
        {
            switch (command)
            {
                case CellCommand.Relay or CellCommand.RelayEarly: circuit.FromPrevious(cell); break;
                case CellCommand.Destroy: Teardown(circuit, DestroyReason.Destroyed, from: link); break;
                default: Violation(circuit); break;
            }
        }
        else if (byNext.TryGetValue((link, id), out circuit))
        {
            switch (command)
            {
                case CellCommand.Relay: circuit.FromNext(cell); break;
                case CellCommand.Created2: circuit.Extended(cell); break;
                case CellCommand.Destroy: Teardown(circuit, DestroyReason.Destroyed, from: link); break;
                default: Violation(circuit); break;
            }
        }
        else if (command == CellCommand.Create2)
        {
            Create(link, id, cell);
        }
        // Anything else names a circuit this relay does not have (already destroyed, say): dropped.
    }

    void Create(Link link, uint id, byte[] cell)
    {
        if (id == 0 || !link.PeerNumbered(id) || circuitsOnLink.GetValueOrDefault(link) >= MaxCircuitsPerLink
            || Cells.ReadCreate2(cell) is not { } onionskin
            || !Ntor.TryServer(onionskin, identity.NodeId, onionKeys.Find, HopKeys.KeyMaterialSize, out var reply, out var keys))
        {
            Counters.ProtocolViolation();
            link.Send(Cells.Destroy(id, DestroyReason.Protocol));
            if (link.Misbehaved(MaxViolationsPerLink)) _ = link.CloseAsync();
            return;
        }
        var circuit = new RelayCircuit(this, link, id, new HopKeys(keys));
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(keys);
        if (!byPrevious.TryAdd((link, id), circuit))
        {
            circuit.Dispose();
            link.Send(Cells.Destroy(id, DestroyReason.Protocol));
            return;
        }
        circuitsOnLink.AddOrUpdate(link, 1, (_, n) => n + 1);
        Counters.CircuitCreated();
        link.Send(Cells.Created2(id, reply));
    }

    /// <summary>Opens (or reuses) the link to another relay and sends it the client's CREATE2 for this circuit.</summary>
    internal async Task ExtendAsync(RelayCircuit circuit, RelayPayloads.Extend2Request request)
    {
        try
        {
            if (!await ExtendAllowed(request.Target, request.IdentityKey))
            {
                Violation(circuit);
                return;
            }
            var lazy = outbound.GetOrAdd(request.Target, target => new Lazy<Task<Link>>(() => ConnectAsync(target)));
            Link next;
            try
            {
                next = await lazy.Value;
            }
            catch
            {
                outbound.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<Link>>>(request.Target, lazy));
                throw;
            }
            var id = next.NewCircuitId();
            if (!byNext.TryAdd((next, id), circuit)) throw new IOException("circuit ID collision");
            circuit.AttachNext(next, id, Stopwatch.GetTimestamp());
            if (circuit.IsDestroyed)
            {
                // Destroyed while the link was being opened: the teardown did not see this half.
                byNext.TryRemove((next, id), out _);
                return;
            }
            next.Send(Cells.Create2(id, request.Onionskin));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or TimeoutException)
        {
            Teardown(circuit, DestroyReason.ConnectFailed, from: null);
        }
    }

    async Task<Link> ConnectAsync(IPEndPoint target)
    {
        var socket = await TcpConnect.ConnectAsync(target, TcpConnect.DefaultTimeout, stopping.Token);
        var link = new Link(new NetworkStream(socket, ownsSocket: true), initiator: true, target.ToString());
        Run(link);
        return link;
    }

    /// <summary>A protocol violation on a circuit: both neighbours are told it is gone.</summary>
    internal void Violation(RelayCircuit circuit)
    {
        Counters.ProtocolViolation();
        Teardown(circuit, DestroyReason.Protocol, from: null);
        if (circuit.Previous.Misbehaved(MaxViolationsPerLink)) _ = circuit.Previous.CloseAsync();
    }

    /// <summary>Ends a circuit here and tells the neighbours that did not tell us.</summary>
    internal void Teardown(RelayCircuit circuit, DestroyReason reason, Link? from)
    {
        if (!circuit.MarkDestroyed()) return;
        if (byPrevious.TryRemove((circuit.Previous, circuit.PreviousId), out _) && circuitsOnLink.TryGetValue(circuit.Previous, out var count))
            circuitsOnLink.TryUpdate(circuit.Previous, Math.Max(0, count - 1), count);
        if (circuit.Next is { } next) byNext.TryRemove((next, circuit.NextId), out _);
        // Toward the client the reason is kept; away from it, Tor sends none it need not.
        if (from != circuit.Previous) circuit.Previous.Send(Cells.Destroy(circuit.PreviousId, reason));
        if (circuit.Next is { } n && from != n) n.Send(Cells.Destroy(circuit.NextId, DestroyReason.None));
        circuit.Dispose();
        Counters.CircuitDestroyed();
    }

    int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        await stopping.CancelAsync();
        listener?.Stop();
        foreach (var link in links.Keys) await link.DisposeAsync();
        stopping.Dispose();
    }
}
