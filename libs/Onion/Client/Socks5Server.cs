using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Platform.Onion.Client;

/// <summary>
/// A SOCKS5 entry (RFC 1928) into the onion network: no authentication (it listens on loopback, like Tor's
/// SocksPort), CONNECT only, to an IPv4 or IPv6 address or a domain name — names are resolved by the exit, never
/// here, so <c>curl --socks5-hostname</c> leaks no lookup. Replies use RFC 1928's codes: 0x02 when the exit's policy
/// refuses, 0x04 when the name does not resolve, 0x05 when the destination refuses, 0x07 for other commands.
/// </summary>
public sealed class Socks5Server(OnionClient client, ILogger logger) : IAsyncDisposable
{
    readonly CancellationTokenSource stopping = new();
    TcpListener? listener;

    public IPEndPoint Start(IPEndPoint listen)
    {
        listener = new TcpListener(listen);
        listener.Start(256);
        _ = AcceptAsync(listener);
        return (IPEndPoint)listener.LocalEndpoint;
    }

    async Task AcceptAsync(TcpListener server)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var socket = await server.AcceptSocketAsync(stopping.Token);
                socket.NoDelay = true;
                _ = ServeAsync(socket);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stopping.IsCancellationRequested) return;
            }
        }
    }

    async Task ServeAsync(Socket socket)
    {
        await using var connection = new NetworkStream(socket, ownsSocket: true);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            handshake.CancelAfter(TimeSpan.FromSeconds(30));
            if (await ReadRequestAsync(connection, handshake.Token) is not { } target) return;
            OnionStream stream;
            try
            {
                stream = await client.ConnectAsync(target.Host, target.Port, handshake.Token);
            }
            catch (OnionException ex)
            {
                await ReplyAsync(connection, ex.Data["reason"] switch
                {
                    RelayPayloads.EndReason.ExitPolicy => 0x02,
                    RelayPayloads.EndReason.ResolveFailed => 0x04,
                    RelayPayloads.EndReason.ConnectRefused => 0x05,
                    _ => 0x01,
                }, handshake.Token);
                logger.LogInformation("A SOCKS request failed: {Reason}", ex.Message);
                return;
            }
            await using (stream)
            {
                await ReplyAsync(connection, 0x00, handshake.Token);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
                var up = PumpAsync(connection, stream, done.Token);
                var down = PumpAsync(stream, connection, done.Token);
                if (await Task.WhenAny(up, down) == down)
                {
                    // The destination finished: the client sees end-of-stream at once, and may still send.
                    try { socket.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
                }
                // One side finished: let the other drain what is in flight, then close both.
                done.CancelAfter(TimeSpan.FromSeconds(5));
                await Task.WhenAll(up, down);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or EndOfStreamException)
        {
        }
    }

    static async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, 64 * 1024, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The method negotiation and the CONNECT request; null after answering anything else.</summary>
    static async Task<(string Host, int Port)?> ReadRequestAsync(Stream connection, CancellationToken cancellationToken)
    {
        var head = new byte[2];
        await connection.ReadExactlyAsync(head, cancellationToken);
        if (head[0] != 5) return null;
        var methods = new byte[head[1]];
        await connection.ReadExactlyAsync(methods, cancellationToken);
        if (!methods.Contains((byte)0))
        {
            await connection.WriteAsync(new byte[] { 5, 0xFF }, cancellationToken);
            return null;
        }
        await connection.WriteAsync(new byte[] { 5, 0 }, cancellationToken);

        var request = new byte[4];
        await connection.ReadExactlyAsync(request, cancellationToken);
        if (request[0] != 5) return null;
        string host;
        switch (request[3])
        {
            case 1:
                host = new IPAddress(await ReadAsync(connection, 4, cancellationToken)).ToString();
                break;
            case 4:
                host = new IPAddress(await ReadAsync(connection, 16, cancellationToken)).ToString();
                break;
            case 3:
                var length = (await ReadAsync(connection, 1, cancellationToken))[0];
                host = Encoding.ASCII.GetString(await ReadAsync(connection, length, cancellationToken));
                break;
            default:
                await ReplyAsync(connection, 0x08, cancellationToken);
                return null;
        }
        var port = BinaryPrimitives.ReadUInt16BigEndian(await ReadAsync(connection, 2, cancellationToken));
        if (request[1] != 1)
        {
            await ReplyAsync(connection, 0x07, cancellationToken);
            return null;
        }
        // A name the exit would refuse is refused here, before it costs a circuit anything.
        if (port == 0 || host.Length == 0 || host.Any(c => c <= ' ' || c > '~'))
        {
            await ReplyAsync(connection, 0x01, cancellationToken);
            return null;
        }
        return (host, port);
    }

    static async Task<byte[]> ReadAsync(Stream connection, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await connection.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    /// <summary>VER REP RSV ATYP BND.ADDR BND.PORT; the bound address is not shared (0.0.0.0:0), as Tor does.</summary>
    static async Task ReplyAsync(Stream connection, byte code, CancellationToken cancellationToken) =>
        await connection.WriteAsync(new byte[] { 5, code, 0, 1, 0, 0, 0, 0, 0, 0 }, cancellationToken);

    int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        await stopping.CancelAsync();
        listener?.Stop();
        stopping.Dispose();
    }
}
