using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Platform.Onion;

namespace Platform.Privacy.Relays;

/// <summary>
/// The authority's reachability test: connect to the relay's advertised address and complete a real ntor handshake
/// with its advertised onion key, then destroy the circuit. Only a relay that answers there with that key is Running,
/// so an agent cannot list someone else's address, or a key it does not hold.
/// </summary>
public static class RelayProbe
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The handshake's round trip in milliseconds, or null when the relay did not prove itself.</summary>
    public static async Task<double?> ProbeAsync(string address, int port, byte[] identityKey, byte[] onionKey, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(address, out var ip)) return null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        Socket? socket = null;
        try
        {
            var started = Stopwatch.GetTimestamp();
            socket = await TcpConnect.ConnectAsync(new IPEndPoint(ip, port), Timeout, timeout.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            const uint circuitId = Cells.InitiatorBit | 1;
            var skin = Ntor.ClientStart(Ntor.NodeId(identityKey), onionKey, out var state);
            await stream.WriteAsync(Cells.Create2(circuitId, skin), timeout.Token);
            var answer = new byte[Cells.Size];
            await stream.ReadExactlyAsync(answer, timeout.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var ok = Cells.Command(answer) == CellCommand.Created2 && Cells.CircuitId(answer) == circuitId
                && Cells.ReadCreated2(answer) is { } reply && Ntor.TryClientFinish(state, reply, HopKeys.KeyMaterialSize, out _);
            await stream.WriteAsync(Cells.Destroy(circuitId, DestroyReason.Finished), timeout.Token);
            return ok ? elapsed.TotalMilliseconds : null;
        }
        catch (Exception ex) when (ex is SocketException or IOException or NotSupportedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            socket?.Dispose();
        }
    }
}
