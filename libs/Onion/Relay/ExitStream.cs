using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Platform.Onion.Relay;

/// <summary>
/// A stream at the end of a circuit: the exit resolves the name, checks every address against its policy, connects to
/// the first one allowed, and pumps bytes both ways within the SENDME windows. Nothing about the stream is logged or
/// kept once it ends.
/// </summary>
sealed class ExitStream(RelayCircuit circuit, ushort streamId) : IDisposable
{
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    const int MaxData = OnionLayers.BackwardCapacity - RelayMessage.HeaderSize;

    readonly CancellationTokenSource closing = new();
    readonly Channel<ReadOnlyMemory<byte>> toDestination = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });
    int queued;
    int delivered;
    Socket? socket;
    int closed;

    public PackageWindow Package { get; } = new(FlowWindows.StreamWindow, FlowWindows.StreamIncrement, authenticated: false);

    public async Task ConnectAsync(string host, int port)
    {
        var relay = circuit.Relay;
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closing.Token);
            timeout.CancelAfter(ConnectTimeout);
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException)
        {
            End(RelayPayloads.EndReason.ResolveFailed);
            return;
        }
        var allowed = addresses.Where(a => relay.ExitPolicy.Allows(a, port)).Take(4).ToList();
        if (allowed.Count == 0)
        {
            End(RelayPayloads.EndReason.ExitPolicy);
            return;
        }
        // Each allowed address in the resolver's order until one answers ("localhost" may list ::1 before 127.0.0.1,
        // and a service may listen on one of them only); the deadline covers them all.
        Socket? connection = null;
        IPAddress? connected = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(closing.Token))
        {
            timeout.CancelAfter(ConnectTimeout);
            foreach (var address in allowed)
            {
                try
                {
                    connection = await TcpConnect.ConnectAsync(new IPEndPoint(address, port), ConnectTimeout, timeout.Token);
                    connected = address;
                    break;
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    if (timeout.IsCancellationRequested) break;
                }
            }
        }
        if (connection is null || connected is null)
        {
            End(RelayPayloads.EndReason.ConnectRefused);
            return;
        }
        socket = connection;
        if (Volatile.Read(ref closed) == 1)
        {
            connection.Dispose();
            return;
        }
        circuit.Send(new RelayMessage(RelayCommand.Connected, streamId, RelayPayloads.Connected(connected)));
        _ = WriteToDestinationAsync(connection);
        await ReadFromDestinationAsync(connection);
    }

    /// <summary>
    /// DATA from the client; false when the client overran the stream window (more than 500 cells not yet written to
    /// the destination). The stream SENDME goes back once cells are written, so a slow destination slows the client.
    /// </summary>
    public bool Receive(ReadOnlyMemory<byte> data)
    {
        if (Interlocked.Increment(ref queued) > FlowWindows.StreamWindow) return false;
        circuit.Relay.Counters.ExitTraffic(data.Length);
        toDestination.Writer.TryWrite(data);
        return true;
    }

    async Task WriteToDestinationAsync(Socket connection)
    {
        try
        {
            await foreach (var data in toDestination.Reader.ReadAllAsync(closing.Token))
            {
                await connection.SendAsync(data, SocketFlags.None, closing.Token);
                Interlocked.Decrement(ref queued);
                if (++delivered % FlowWindows.StreamIncrement == 0)
                    circuit.Send(new RelayMessage(RelayCommand.Sendme, streamId, ReadOnlyMemory<byte>.Empty));
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Close(sendEnd: true);
        }
    }

    async Task ReadFromDestinationAsync(Socket connection)
    {
        // Read what the destination has (up to 64 KB at once), then cut it into cells, each within both windows.
        var buffer = new byte[MaxData * 128];
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer, SocketFlags.None, closing.Token);
                if (read == 0) break;
                for (var offset = 0; offset < read; offset += MaxData)
                {
                    var size = Math.Min(MaxData, read - offset);
                    await Package.WaitAsync(closing.Token);
                    await circuit.CircuitPackage.WaitAsync(closing.Token);
                    if (circuit.Send(new RelayMessage(RelayCommand.Data, streamId, buffer.AsMemory(offset, size).ToArray())) is null) return;
                    Package.Sent(null);
                }
                circuit.Relay.Counters.ExitTraffic(read);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        Close(sendEnd: true);
    }

    void End(RelayPayloads.EndReason reason)
    {
        circuit.Send(new RelayMessage(RelayCommand.End, streamId, RelayPayloads.End(reason)));
        Close(sendEnd: false);
    }

    /// <summary>Ends the stream; tells the client when the end came from this side.</summary>
    public void Close(bool sendEnd)
    {
        if (Interlocked.Exchange(ref closed, 1) == 1) return;
        if (sendEnd) circuit.Send(new RelayMessage(RelayCommand.End, streamId, RelayPayloads.End(RelayPayloads.EndReason.Done)));
        circuit.StreamEnded(streamId);
        try { closing.Cancel(); } catch (ObjectDisposedException) { }
        toDestination.Writer.TryComplete();
        socket?.Dispose();
    }

    public void Dispose() => Close(sendEnd: false);
}
