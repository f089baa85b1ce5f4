using System.Net;
using System.Net.Sockets;

namespace Platform.Onion.Tests;

/// <summary>
/// A hostile link between two relays: forwards cells both ways and, when armed, flips one bit in the payload of the
/// next RELAY cell going forward — the tagging attack on the wire.
/// </summary>
public sealed class TamperingProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly IPEndPoint target;
    readonly CancellationTokenSource stopping = new();
    int armed;

    public TamperingProxy(IPEndPoint target)
    {
        this.target = target;
        listener.Start();
        Endpoint = (IPEndPoint)listener.LocalEndpoint;
        _ = AcceptAsync();
    }

    public IPEndPoint Endpoint { get; }
    public int Tampered { get; private set; }

    public void Arm() => Interlocked.Exchange(ref armed, 1);

    async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await listener.AcceptTcpClientAsync(stopping.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(target, stopping.Token);
                _ = PumpAsync(inbound.GetStream(), outbound.GetStream(), tamper: true);
                _ = PumpAsync(outbound.GetStream(), inbound.GetStream(), tamper: false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    async Task PumpAsync(Stream from, Stream to, bool tamper)
    {
        var cell = new byte[Cells.Size];
        try
        {
            while (true)
            {
                await from.ReadExactlyAsync(cell, stopping.Token);
                if (tamper && Cells.Command(cell) is CellCommand.Relay && Interlocked.Exchange(ref armed, 0) == 1)
                {
                    cell[Cells.HeaderSize + 200] ^= 0x04;
                    Tampered++;
                }
                await to.WriteAsync(cell, stopping.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException)
        {
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
    }
}
