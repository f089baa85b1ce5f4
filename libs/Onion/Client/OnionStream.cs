using System.Threading.Channels;

namespace Platform.Onion.Client;

/// <summary>
/// A TCP-like stream through a circuit. Writes are cut into DATA cells and wait for the stream's and the circuit's
/// SENDME windows; reads take DATA as it arrives, and a stream SENDME goes back for every 50 cells the reader consumed,
/// so a reader that stops reading stops the sender instead of growing a buffer.
/// </summary>
public sealed class OnionStream : Stream
{
    readonly OnionCircuit circuit;
    readonly ushort streamId;
    readonly Channel<ReadOnlyMemory<byte>> incoming = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });
    readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly CancellationTokenSource ended = new();
    ReadOnlyMemory<byte> current;
    int unacknowledged;
    int consumed;
    int closed;

    internal OnionStream(OnionCircuit circuit, ushort streamId)
    {
        this.circuit = circuit;
        this.streamId = streamId;
    }

    internal Task Connected => connected.Task;
    internal PackageWindow Package { get; } = new(FlowWindows.StreamWindow, FlowWindows.StreamIncrement, authenticated: false);

    internal bool OnConnected() => connected.TrySetResult() || true;

    internal bool OnData(ReadOnlyMemory<byte> data)
    {
        if (Interlocked.Increment(ref unacknowledged) > FlowWindows.StreamWindow) return false;
        incoming.Writer.TryWrite(data);
        return true;
    }

    internal void OnEnd(RelayPayloads.EndReason reason)
    {
        connected.TrySetException(new OnionException(reason switch
        {
            RelayPayloads.EndReason.ExitPolicy => "the exit's policy refuses that destination",
            RelayPayloads.EndReason.ResolveFailed => "the exit could not resolve that name",
            RelayPayloads.EndReason.ConnectRefused => "the destination refused the connection",
            _ => $"the stream ended ({reason})",
        }) { Data = { ["reason"] = reason } });
        incoming.Writer.TryComplete();
        try { ended.Cancel(); } catch (ObjectDisposedException) { }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (current.IsEmpty)
        {
            if (!await incoming.Reader.WaitToReadAsync(cancellationToken)) return 0;
            TakeNext();
        }
        // Fill the caller's buffer from every cell already here, not one cell per read.
        var count = 0;
        while (true)
        {
            var take = Math.Min(buffer.Length - count, current.Length);
            current[..take].CopyTo(buffer[count..]);
            current = current[take..];
            count += take;
            if (count == buffer.Length || !current.IsEmpty || !TakeNext()) return count;
        }
    }

    /// <summary>The next cell's data, if one is here; a stream SENDME for every 50 cells consumed.</summary>
    bool TakeNext()
    {
        if (!incoming.Reader.TryRead(out current)) return false;
        Interlocked.Decrement(ref unacknowledged);
        if (++consumed % FlowWindows.StreamIncrement == 0 && circuit.IsOpen)
        {
            try { circuit.Send(circuit.Path.Count - 1, new RelayMessage(RelayCommand.Sendme, streamId, ReadOnlyMemory<byte>.Empty)); }
            catch (OnionException) { }
        }
        return true;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ended.Token);
        var capacity = circuit.StreamCapacity;
        while (!buffer.IsEmpty)
        {
            var chunk = buffer[..Math.Min(capacity, buffer.Length)];
            try
            {
                await Package.WaitAsync(linked.Token);
                await circuit.CircuitPackage.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (ended.IsCancellationRequested)
            {
                throw new IOException("the stream has ended");
            }
            circuit.Send(circuit.Path.Count - 1, new RelayMessage(RelayCommand.Data, streamId, chunk.ToArray()));
            Package.Sent(null);
            buffer = buffer[chunk.Length..];
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref closed, 1) == 0)
        {
            circuit.StreamClosed(streamId, sendEnd: true);
            OnEnd(RelayPayloads.EndReason.Done);
            Package.Dispose();
        }
        base.Dispose(disposing);
    }
}
