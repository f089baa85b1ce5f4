using System.Diagnostics;

namespace Platform.Onion.Relay;

/// <summary>
/// One circuit as a relay holds it: the link and ID toward the client, its hop keys, and — once extended — the link
/// and ID toward the next relay; or, at the end of the circuit, the exit streams. Forward cells arrive in order on
/// the previous link's reader; backward cells (from the next relay or from exit streams) are sealed and queued under
/// one lock so their counters match the order they leave in.
/// </summary>
sealed class RelayCircuit(OnionRelay relay, Link previous, uint previousId, HopKeys keys) : IDisposable
{
    public const int MaxRelayEarly = 8;
    public const int MaxStreams = 256;

    readonly Lock backward = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<ushort, ExitStream> streams = new();
    readonly DeliverWindow circuitDeliver = new(FlowWindows.CircuitIncrement);
    int relayEarly;
    bool extending;
    int destroyed;
    long extendStarted;

    public Link Previous => previous;
    public uint PreviousId => previousId;
    public Link? Next { get; private set; }
    public uint NextId { get; private set; }
    public PackageWindow CircuitPackage { get; } = new(FlowWindows.CircuitWindow, FlowWindows.CircuitIncrement, authenticated: true);
    public OnionRelay Relay => relay;

    public bool MarkDestroyed() => Interlocked.Exchange(ref destroyed, 1) == 0;

    public bool IsDestroyed => Volatile.Read(ref destroyed) == 1;

    public void AttachNext(Link next, uint id, long startedAt)
    {
        (Next, NextId, extendStarted) = (next, id, startedAt);
    }

    /// <summary>A RELAY or RELAY_EARLY cell from the client's side.</summary>
    public void FromPrevious(byte[] cell)
    {
        var early = Cells.Command(cell) == CellCommand.RelayEarly;
        if (early && ++relayEarly > MaxRelayEarly)
        {
            relay.Violation(this);
            return;
        }
        var output = Cells.New(0, Cells.Command(cell));
        var tag = Cells.Payload((ReadOnlySpan<byte>)cell)[..HopKeys.TagSize].ToArray();
        switch (keys.OpenForward(Cells.Payload((ReadOnlySpan<byte>)cell), Cells.Payload(output.AsSpan())))
        {
            case HopKeys.Opened.Forward when Next is { } next:
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(output, NextId);
                relay.Counters.CellRelayed();
                next.Send(output);
                break;
            case HopKeys.Opened.Deliver when RelayMessage.Read(Cells.Payload((ReadOnlySpan<byte>)output)[..(HopKeys.BodySize - 1)]) is { } message:
                relay.Counters.CellRelayed();
                Deliver(message, early, tag);
                break;
            default:
                relay.Violation(this);
                break;
        }
    }

    /// <summary>A RELAY cell from the next relay, on its way to the client: add this hop's layer and pass it back.</summary>
    public void FromNext(byte[] cell)
    {
        lock (backward)
        {
            if (IsDestroyed) return;
            keys.WrapBackward(Cells.Payload(cell.AsSpan()));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(cell, previousId);
            cell[4] = (byte)CellCommand.Relay;
            relay.Counters.CellRelayed();
            previous.Send(cell);
        }
    }

    /// <summary>The next relay answered our CREATE2: tell the client in an EXTENDED2.</summary>
    public void Extended(byte[] cell)
    {
        if (extendStarted == 0 || Cells.ReadCreated2(cell) is not { } reply)
        {
            relay.Violation(this);
            return;
        }
        relay.Counters.ExtendLatency(Stopwatch.GetElapsedTime(extendStarted));
        extendStarted = 0;
        Send(new RelayMessage(RelayCommand.Extended2, 0, RelayPayloads.Extended2(reply)));
    }

    /// <summary>Seals a message from this hop toward the client; returns its tag.</summary>
    public byte[]? Send(RelayMessage message)
    {
        var cell = Cells.New(previousId, CellCommand.Relay);
        var plain = new byte[message.Size];
        message.Write(plain);
        lock (backward)
        {
            if (IsDestroyed) return null;
            var tag = keys.SealBackward(plain, Cells.Payload(cell.AsSpan()));
            relay.Counters.CellRelayed();
            previous.Send(cell);
            // Recorded in sealing order: the client echoes the tag of every 100th DATA cell in the order it got them.
            if (message.Command == RelayCommand.Data) CircuitPackage.Sent(tag);
            return tag;
        }
    }

    void Deliver(RelayMessage message, bool early, byte[] tag)
    {
        switch (message.Command)
        {
            case RelayCommand.Extend2 when early && !extending && streams.IsEmpty && RelayPayloads.ReadExtend2(message.Data.Span) is { } request:
                extending = true;
                _ = relay.ExtendAsync(this, request);
                break;
            case RelayCommand.Begin when message.StreamId != 0 && !extending:
                if (streams.ContainsKey(message.StreamId))
                {
                    relay.Violation(this);
                    return;
                }
                if (streams.Count >= MaxStreams || RelayPayloads.ReadBegin(message.Data.Span) is not { } target)
                {
                    // A bad address or one stream too many ends that stream, not the circuit its other streams share.
                    Send(new RelayMessage(RelayCommand.End, message.StreamId, RelayPayloads.End(RelayPayloads.EndReason.Misc)));
                    return;
                }
                var stream = new ExitStream(this, message.StreamId);
                streams[message.StreamId] = stream;
                relay.Counters.StreamOpened();
                _ = stream.ConnectAsync(target.Host, target.Port);
                break;
            case RelayCommand.Data when message.StreamId != 0:
                if (circuitDeliver.Receive()) Send(new RelayMessage(RelayCommand.Sendme, 0, RelayPayloads.Sendme(tag)));
                // Data for a stream already ended crosses the END in flight: dropped.
                if (streams.TryGetValue(message.StreamId, out var target2) && !target2.Receive(message.Data)) relay.Violation(this);
                break;
            case RelayCommand.End when message.StreamId != 0:
                if (streams.TryRemove(message.StreamId, out var ended)) ended.Close(sendEnd: false);
                break;
            case RelayCommand.Sendme when message.StreamId == 0:
                if (!CircuitPackage.Acknowledge(RelayPayloads.ReadSendmeTag(message.Data.Span))) relay.Violation(this);
                break;
            case RelayCommand.Sendme:
                if (streams.TryGetValue(message.StreamId, out var acknowledged) && !acknowledged.Package.Acknowledge(null)) relay.Violation(this);
                break;
            default:
                relay.Violation(this);
                break;
        }
    }

    /// <summary>An exit stream ended on the destination's side.</summary>
    public void StreamEnded(ushort streamId) => streams.TryRemove(streamId, out _);

    public void Dispose()
    {
        lock (backward)
        {
            foreach (var stream in streams.Values) stream.Close(sendEnd: false);
            streams.Clear();
            keys.Dispose();
            CircuitPackage.Dispose();
        }
    }
}
