using System.Security.Cryptography;
using System.Threading.Channels;

namespace Platform.Onion;

/// <summary>
/// A connection that carries cells between two onion nodes: one reader that hands each 514-byte cell to its owner in
/// arrival order, one writer that drains a queue. Circuits on a link are numbered by whoever creates them, the side
/// that opened the link with the top bit set (tor-spec §5.1.1), so both sides can create circuits without colliding.
/// </summary>
public sealed class Link : IAsyncDisposable
{
    readonly Stream stream;
    /// <summary>
    /// Cells queued for a peer that does not read them: past this (8 MB), the link is closed rather than grown. Flow
    /// control keeps honest traffic far below it (a circuit has at most 1000 cells in flight).
    /// </summary>
    public const int MaxQueuedCells = 16_384;

    readonly Channel<byte[]> outgoing = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(MaxQueuedCells) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    readonly CancellationTokenSource closing = new();
    long cellsIn, cellsOut;
    int closed;

    public Link(Stream stream, bool initiator, string peer)
    {
        this.stream = stream;
        Initiator = initiator;
        Peer = peer;
    }

    /// <summary>True on the side that opened the connection.</summary>
    public bool Initiator { get; }

    /// <summary>The peer's address as this side sees it (kept in memory only, for counting neighbours).</summary>
    public string Peer { get; }

    public long CellsIn => Interlocked.Read(ref cellsIn);
    public long CellsOut => Interlocked.Read(ref cellsOut);
    public bool Closed => Volatile.Read(ref closed) == 1;

    /// <summary>Raised once when the link ends, for whatever reason.</summary>
    public event Action<Link>? Ended;

    /// <summary>A fresh random circuit ID with this side's top bit (never 0).</summary>
    public uint NewCircuitId()
    {
        var id = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
        return Initiator ? id | Cells.InitiatorBit : id;
    }

    /// <summary>True when the peer, not this side, numbered this circuit.</summary>
    public bool PeerNumbered(uint circuitId) => ((circuitId & Cells.InitiatorBit) != 0) != Initiator;

    /// <summary>Queues a cell; cells leave in the order they were queued. A peer that lets the queue fill loses the link.</summary>
    public void Send(byte[] cell)
    {
        if (cell.Length != Cells.Size) throw new ArgumentException("a cell is 514 bytes", nameof(cell));
        if (!outgoing.Writer.TryWrite(cell) && !Closed) _ = CloseAsync();
    }

    int violations;

    /// <summary>Counts a protocol violation by the peer; true once there have been too many and the link should go.</summary>
    public bool Misbehaved(int limit) => Interlocked.Increment(ref violations) >= limit;

    /// <summary>Reads and writes until either side closes; <paramref name="onCell"/> runs for each cell in order.</summary>
    public async Task RunAsync(Func<byte[], ValueTask> onCell, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing.Token);
        var writer = WriteAsync(linked.Token);
        try
        {
            // Read in large chunks and cut cells out of them: one system call for many cells, not one each.
            var buffer = new byte[64 * Cells.Size];
            var filled = 0;
            while (!linked.IsCancellationRequested)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled), linked.Token);
                if (read == 0) break;
                filled += read;
                var whole = filled / Cells.Size * Cells.Size;
                for (var offset = 0; offset < whole; offset += Cells.Size)
                {
                    Interlocked.Increment(ref cellsIn);
                    await onCell(buffer.AsSpan(offset, Cells.Size).ToArray());
                }
                buffer.AsSpan(whole, filled - whole).CopyTo(buffer);
                filled -= whole;
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await CloseAsync();
            try { await writer; } catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException) { }
        }
    }

    async Task WriteAsync(CancellationToken cancellationToken)
    {
        // Whatever is queued goes out together, up to 64 cells per write: one system call for many cells.
        var reader = outgoing.Reader;
        var batch = new byte[64 * Cells.Size];
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            var length = 0;
            while (length < batch.Length && reader.TryRead(out var cell))
            {
                cell.CopyTo(batch, length);
                length += Cells.Size;
            }
            await stream.WriteAsync(batch.AsMemory(0, length), cancellationToken);
            Interlocked.Add(ref cellsOut, length / Cells.Size);
        }
    }

    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref closed, 1) == 1) return;
        await closing.CancelAsync();
        outgoing.Writer.TryComplete();
        await stream.DisposeAsync();
        Ended?.Invoke(this);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        closing.Dispose();
    }
}
