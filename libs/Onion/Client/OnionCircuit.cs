using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Platform.Onion.Directory;

namespace Platform.Onion.Client;

/// <summary>
/// A client's circuit: built hop by hop (CREATE2 to the guard, then EXTEND2 in RELAY_EARLY through the hops so far),
/// then carrying multiplexed streams. The client holds every hop's keys; relays each hold one.
/// </summary>
public sealed class OnionCircuit : IAsyncDisposable
{
    static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);

    readonly Link link;
    readonly List<HopKeys> hops = [];
    readonly Lock forward = new();
    readonly ConcurrentDictionary<ushort, OnionStream> streams = new();
    readonly DeliverWindow circuitDeliver = new(FlowWindows.CircuitIncrement);
    TaskCompletionSource<byte[]>? handshake;
    int relayEarlySent;
    int nextStreamId;
    int closed;
    long bytesSent, bytesReceived;

    internal OnionCircuit(Link link, uint id, IReadOnlyList<ConsensusRelay> path, DateTimeOffset createdAt)
    {
        this.link = link;
        Id = id;
        Path = path;
        CreatedAt = createdAt;
    }

    public uint Id { get; }
    public IReadOnlyList<ConsensusRelay> Path { get; }
    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset? FirstUsedAt { get; private set; }
    public string State => Volatile.Read(ref closed) == 1 ? "closed" : hops.Count < Path.Count ? "building" : "open";
    public bool IsOpen => State == "open";
    public int StreamCount => streams.Count;
    public long BytesSent => Interlocked.Read(ref bytesSent);
    public long BytesReceived => Interlocked.Read(ref bytesReceived);
    public TimeSpan BuildTime { get; private set; }
    internal PackageWindow CircuitPackage { get; } = new(FlowWindows.CircuitWindow, FlowWindows.CircuitIncrement, authenticated: true);

    /// <summary>Raised once when the circuit closes (DESTROY, link loss, or Dispose).</summary>
    public event Action<OnionCircuit, DestroyReason>? Closed;

    internal async Task BuildAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Path.Count; i++)
        {
            var relay = Path[i];
            var identity = Convert.FromBase64String(relay.IdentityKey);
            var onionskin = Ntor.ClientStart(Ntor.NodeId(identity), Convert.FromBase64String(relay.OnionKey), out var state);
            var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            handshake = reply;
            if (i == 0)
            {
                link.Send(Cells.Create2(Id, onionskin));
            }
            else
            {
                var target = new IPEndPoint(IPAddress.Parse(relay.Address), relay.Port);
                Send(i - 1, new RelayMessage(RelayCommand.Extend2, 0, RelayPayloads.Extend2(target, identity, onionskin)), early: true);
            }
            byte[] answer;
            try
            {
                answer = await reply.Task.WaitAsync(HandshakeTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new OnionException($"hop {i + 1} ({relay.Nickname}) did not answer the handshake in {HandshakeTimeout.TotalSeconds:0} s");
            }
            if (!Ntor.TryClientFinish(state, answer, HopKeys.KeyMaterialSize, out var keys))
                throw new OnionException($"hop {i + 1} ({relay.Nickname}) failed the ntor handshake: it does not hold the onion key the consensus lists");
            lock (forward) hops.Add(new HopKeys(keys));
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(keys);
        }
        handshake = null;
        BuildTime = Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Opens a stream through the last hop to host:port (the exit resolves names).</summary>
    public async Task<OnionStream> OpenStreamAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (!IsOpen) throw new OnionException("the circuit is not open");
        FirstUsedAt ??= DateTimeOffset.UtcNow;
        var streamId = (ushort)(Interlocked.Increment(ref nextStreamId) % 65535 + 1);
        var stream = new OnionStream(this, streamId);
        if (!streams.TryAdd(streamId, stream)) throw new OnionException("too many streams on this circuit");
        Send(Path.Count - 1, new RelayMessage(RelayCommand.Begin, streamId, RelayPayloads.Begin(host, port)));
        try
        {
            await stream.Connected.WaitAsync(HandshakeTimeout, cancellationToken);
        }
        catch
        {
            streams.TryRemove(streamId, out _);
            throw;
        }
        return stream;
    }

    internal int StreamCapacity => OnionLayers.ForwardCapacity(Path.Count - 1) - RelayMessage.HeaderSize;

    /// <summary>Seals a message for a hop and queues it; returns the hop's tag.</summary>
    internal byte[] Send(int hop, RelayMessage message, bool early = false)
    {
        var plain = new byte[message.Size];
        message.Write(plain);
        lock (forward)
        {
            if (Volatile.Read(ref closed) == 1) throw new OnionException("the circuit is closed");
            if (early && ++relayEarlySent > 8) throw new OnionException("a circuit carries at most 8 RELAY_EARLY cells");
            var cell = Cells.New(Id, early ? CellCommand.RelayEarly : CellCommand.Relay);
            var tag = OnionLayers.SealForward(hops, hop, plain, Cells.Payload(cell.AsSpan()));
            link.Send(cell);
            if (message.Command == RelayCommand.Data)
            {
                // Recorded in sealing order: the exit echoes the tag of every 100th DATA cell in the order it got them.
                CircuitPackage.Sent(tag);
                Interlocked.Add(ref bytesSent, message.Data.Length);
            }
            return tag;
        }
    }

    /// <summary>A cell for this circuit from the guard.</summary>
    internal void OnCell(byte[] cell)
    {
        if (Volatile.Read(ref closed) == 1) return;
        switch (Cells.Command(cell))
        {
            case CellCommand.Created2 when hops.Count == 0 && handshake is { } pending && Cells.ReadCreated2(cell) is { } reply:
                pending.TrySetResult(reply);
                break;
            case CellCommand.Relay when hops.Count > 0:
                OnRelay(cell);
                break;
            case CellCommand.Destroy:
                Close((DestroyReason)cell[Cells.HeaderSize], sendDestroy: false);
                break;
            default:
                Close(DestroyReason.Protocol, sendDestroy: true);
                break;
        }
    }

    void OnRelay(byte[] cell)
    {
        Span<byte> message = stackalloc byte[HopKeys.BodySize], tag = stackalloc byte[HopKeys.TagSize];
        int hop;
        bool opened;
        lock (forward)
        {
            hop = hops.Count - 1;
            opened = OnionLayers.OpenBackward(hops, hop, Cells.Payload(cell.AsSpan()), message, tag);
        }
        if (!opened || RelayMessage.Read(message) is not { } relay)
        {
            Close(DestroyReason.Protocol, sendDestroy: true);
            return;
        }
        var last = hop == Path.Count - 1;
        var ok = relay.Command switch
        {
            RelayCommand.Extended2 when hop == hops.Count - 1 && handshake is { } pending && RelayPayloads.ReadExtended2(relay.Data.Span) is { } reply => pending.TrySetResult(reply),
            RelayCommand.Sendme when last && relay.StreamId == 0 => CircuitPackage.Acknowledge(RelayPayloads.ReadSendmeTag(relay.Data.Span)),
            RelayCommand.Sendme when last => !streams.TryGetValue(relay.StreamId, out var s) || s.Package.Acknowledge(null),
            RelayCommand.Data when last && relay.StreamId != 0 => OnData(relay, tag),
            RelayCommand.Connected when last => !streams.TryGetValue(relay.StreamId, out var s) || s.OnConnected(),
            RelayCommand.End when last => OnEnd(relay),
            _ => false,
        };
        if (!ok) Close(DestroyReason.Protocol, sendDestroy: true);
    }

    bool OnData(RelayMessage relay, ReadOnlySpan<byte> tag)
    {
        if (circuitDeliver.Receive()) Send(Path.Count - 1, new RelayMessage(RelayCommand.Sendme, 0, RelayPayloads.Sendme(tag)));
        Interlocked.Add(ref bytesReceived, relay.Data.Length);
        return !streams.TryGetValue(relay.StreamId, out var stream) || stream.OnData(relay.Data);
    }

    bool OnEnd(RelayMessage relay)
    {
        if (streams.TryRemove(relay.StreamId, out var stream))
            stream.OnEnd(relay.Data.Length > 0 ? (RelayPayloads.EndReason)relay.Data.Span[0] : RelayPayloads.EndReason.Misc);
        return true;
    }

    internal void StreamClosed(ushort streamId, bool sendEnd)
    {
        if (!streams.TryRemove(streamId, out _) || !sendEnd || !IsOpen) return;
        try
        {
            Send(Path.Count - 1, new RelayMessage(RelayCommand.End, streamId, RelayPayloads.End(RelayPayloads.EndReason.Done)));
        }
        catch (OnionException)
        {
        }
    }

    /// <summary>Ends the circuit: every stream ends, and the guard is told unless it told us.</summary>
    public void Close(DestroyReason reason, bool sendDestroy)
    {
        if (Interlocked.Exchange(ref closed, 1) == 1) return;
        if (sendDestroy && !link.Closed) link.Send(Cells.Destroy(Id, DestroyReason.Requested));
        handshake?.TrySetException(new OnionException($"the circuit was destroyed ({reason})"));
        foreach (var stream in streams.Values) stream.OnEnd(RelayPayloads.EndReason.Destroy);
        streams.Clear();
        Closed?.Invoke(this, reason);
        lock (forward)
        {
            foreach (var keys in hops) keys.Dispose();
        }
        CircuitPackage.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Close(DestroyReason.Finished, sendDestroy: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class OnionException(string message) : Exception(message);
