using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Platform.NodeBench;

/// <summary>
/// TCP between two nodes. The server (on one node) listens on the address it is given, prints
/// <c>{"listening":"host:port"}</c>, and serves one client that proves it knows <c>BENCH_TOKEN</c> (both sides get it in
/// their environment; anyone else who connects is dropped). The client (on the other node) measures the round-trip
/// time of 1-byte messages (1,000 of them) and then the throughput of a 3-second stream, counted by the server.
/// </summary>
static class NetworkBench
{
    const int Pings = 1000;
    static readonly TimeSpan StreamFor = TimeSpan.FromSeconds(3);
    static readonly TimeSpan WaitForClient = TimeSpan.FromSeconds(90);

    static byte[] Token() => SHA256.HashData(Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable("BENCH_TOKEN") is { Length: >= 16 } token
        ? token : throw new ArgumentException("BENCH_TOKEN (at least 16 characters) must be set")));

    public static async Task<IEnumerable<BenchResult>> ServeAsync(string bindAddress)
    {
        var token = Token();
        using var listener = new TcpListener(IPAddress.Parse(bindAddress), 0);
        listener.Start();
        Console.WriteLine($"{{\"listening\":\"{listener.LocalEndpoint}\"}}");
        Console.Out.Flush();
        using var deadline = new CancellationTokenSource(WaitForClient);
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync(deadline.Token);
            client.NoDelay = true;
            var stream = client.GetStream();
            // Whoever connects must prove the token within two seconds: anyone else on the node's network who connects
            // and says nothing cannot hold the benchmark up.
            var presented = new byte[token.Length];
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
            {
                handshake.CancelAfter(TimeSpan.FromSeconds(2));
                try
                {
                    await stream.ReadExactlyAsync(presented, handshake.Token);
                }
                catch (Exception ex) when (ex is EndOfStreamException or IOException || ex is OperationCanceledException && !deadline.IsCancellationRequested)
                {
                    continue;
                }
            }
            if (!CryptographicOperations.FixedTimeEquals(presented, token)) continue; // not our client
            var one = new byte[1];
            for (var i = 0; i < Pings; i++)
            {
                await stream.ReadExactlyAsync(one, deadline.Token);
                await stream.WriteAsync(one, deadline.Token);
            }
            var buffer = new byte[1 << 16];
            long received = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0) received += read;
            var count = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(count, received);
            await stream.WriteAsync(count, deadline.Token);
            return [];
        }
    }

    public static async Task<IEnumerable<BenchResult>> MeasureAsync(string host, int port)
    {
        var token = Token();
        using var client = new TcpClient { NoDelay = true };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await client.ConnectAsync(host, port, deadline.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(token, deadline.Token);

        var one = new byte[1];
        var rtts = new double[Pings];
        var clock = new System.Diagnostics.Stopwatch();
        for (var i = 0; i < Pings; i++)
        {
            clock.Restart();
            await stream.WriteAsync(one, deadline.Token);
            await stream.ReadExactlyAsync(one, deadline.Token);
            rtts[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(rtts);

        var buffer = new byte[1 << 16];
        Random.Shared.NextBytes(buffer);
        clock.Restart();
        long sent = 0;
        while (clock.Elapsed < StreamFor)
        {
            await stream.WriteAsync(buffer, deadline.Token);
            sent += buffer.Length;
        }
        client.Client.Shutdown(SocketShutdown.Send);
        var count = new byte[8];
        await stream.ReadExactlyAsync(count, deadline.Token); // the server has read everything once it answers
        var seconds = clock.Elapsed.TotalSeconds;
        var received = BinaryPrimitives.ReadInt64BigEndian(count);
        // The server counts what arrived; it cannot have received more than was sent (a peer that says so is lying).
        if (received < 0 || received > sent) throw new IOException($"the server claims {received} bytes of the {sent} sent");
        return
        [
            new("network_rtt_p50", rtts[Pings / 2], "seconds", $"median round trip of {Pings} 1-byte TCP messages to {host}:{port}"),
            new("network_rtt_p99", rtts[Pings * 99 / 100], "seconds", $"99th percentile of the same"),
            new("network_throughput", received / seconds, "bytes_per_second", $"bytes the server counted from a 3 s TCP stream, over the time until it confirmed them"),
        ];
    }
}
