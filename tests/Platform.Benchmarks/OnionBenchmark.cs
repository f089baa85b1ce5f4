using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Onion;
using Platform.Onion.Client;
using Platform.Onion.Directory;
using Platform.Onion.Relay;

namespace Platform.Benchmarks;

/// <summary>
/// The onion network over loopback, in one run: a 3-hop circuit's throughput and added latency against a direct TCP
/// connection to the same server; the relay's per-hop cell crypto against raw AES-256-GCM on the same buffers; and
/// circuit build time. Relays, client and server share this process and the machine's two cores.
/// </summary>
public static class OnionBenchmark
{
    const int TransferBytes = 64 << 20, RoundTrips = 500, Builds = 200, CryptoCells = 200_000;

    public static async Task<int> RunAsync()
    {
        await using var server = new BenchServer();
        var relays = new List<OnionRelay>();
        for (var i = 0; i < 3; i++)
        {
            var keys = new OnionKeyRing(TimeSpan.FromDays(7), TimeSpan.FromDays(1));
            keys.Rotate(DateTimeOffset.UtcNow);
            var relay = new OnionRelay(RelayIdentity.Create(), keys, ExitPolicy.Parse(i == 2 ? ExitPolicy.Default : ["reject *:*"]), NullLogger.Instance);
            relay.Start(new IPEndPoint(IPAddress.Loopback, 0));
            relays.Add(relay);
        }
        var authority = RelayIdentity.Create();
        string[][] flags = [["Running", "Fast", "Guard", "Stable"], ["Running", "Fast"], ["Running", "Fast", "Exit"]];
        var signed = new ConsensusDocument
        {
            ValidAfter = DateTimeOffset.UtcNow.AddMinutes(-1), FreshUntil = DateTimeOffset.UtcNow.AddHours(1), ValidUntil = DateTimeOffset.UtcNow.AddHours(2),
            Relays = [.. relays.Select((r, i) => new ConsensusRelay
            {
                NodeId = $"r{i}", Nickname = $"relay{i}", IdentityKey = Convert.ToBase64String(r.Identity.PublicKey), OnionKey = Convert.ToBase64String(r.OnionKeys.Current.PublicKey),
                Address = "127.0.0.1", Port = r.Endpoint!.Port, BandwidthBytesPerSecond = 0, Flags = flags[i], ExitPolicy = r.ExitPolicy.Text,
            })],
        }.Sign(authority);
        await using var client = new OnionClient(_ => Task.FromResult(ConsensusDocument.Verify(signed, authority.PublicKey, DateTimeOffset.UtcNow)), TimeProvider.System);

        // Throughput: download TransferBytes, direct and through the circuit (best of three each).
        double direct = 0, onion = 0;
        for (var run = 0; run < 3; run++)
        {
            direct = Math.Max(direct, await DownloadAsync(async () => await DirectAsync(server.Port)));
            onion = Math.Max(onion, await DownloadAsync(async () => await client.ConnectAsync("127.0.0.1", server.Port, CancellationToken.None)));
        }
        Console.WriteLine($"throughput  direct TCP {direct / 1e6,8:F1} MB/s   3-hop circuit {onion / 1e6,8:F1} MB/s   ratio {onion / direct:F3} (goal >= 0.3)");

        // Latency: one-byte echo round trips on an open stream.
        var directRtt = await RoundTripsAsync(await DirectAsync(server.Port));
        var onionRtt = await RoundTripsAsync(await client.ConnectAsync("127.0.0.1", server.Port, CancellationToken.None));
        Console.WriteLine($"round trip  direct p50 {directRtt.P50:F3} ms p95 {directRtt.P95:F3} ms   3-hop p50 {onionRtt.P50:F3} ms p95 {onionRtt.P95:F3} ms   added p50 {onionRtt.P50 - directRtt.P50:F3} ms");

        // Cell crypto per hop: a relay opening forward cells (AES-256-GCM over the body, plus the filler) against raw
        // AES-256-GCM decryption of the same 493-byte bodies with the same kind of key.
        var (hopRate, rawRate) = CellCrypto();
        Console.WriteLine($"cell crypto per hop {hopRate / 1e6,8:F1} MB/s   raw AES-256-GCM {rawRate / 1e6,8:F1} MB/s   ratio {hopRate / rawRate:F3} (goal >= 0.5)");

        // Build time: fresh circuits, one after another.
        var times = new List<double>();
        for (var i = 0; i < Builds; i++)
        {
            var circuit = await client.BuildAsync(server.Port, CancellationToken.None);
            times.Add(circuit.BuildTime.TotalMilliseconds);
            circuit.Close(DestroyReason.Finished, sendDestroy: true);
        }
        times.Sort();
        Console.WriteLine($"circuit build ({Builds}) p50 {times[Builds / 2]:F2} ms  p95 {times[(int)(Builds * 0.95)]:F2} ms");
        foreach (var relay in relays) await relay.DisposeAsync();
        return 0;
    }

    static async Task<Stream> DirectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return tcp.GetStream();
    }

    /// <summary>Bytes per second of one download of TransferBytes ('D' + 4-byte length asks the server for them).</summary>
    static async Task<double> DownloadAsync(Func<Task<Stream>> open)
    {
        await using var stream = await open();
        var request = new byte[5];
        request[0] = (byte)'D';
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(1), TransferBytes);
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(request);
        var buffer = new byte[256 * 1024];
        long total = 0;
        while (total < TransferBytes)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0) throw new IOException("the server closed early");
            total += read;
        }
        return total / clock.Elapsed.TotalSeconds;
    }

    static async Task<(double P50, double P95)> RoundTripsAsync(Stream stream)
    {
        await using var _ = stream;
        var times = new List<double>();
        var one = new byte[1];
        for (var i = 0; i < RoundTrips; i++)
        {
            var clock = Stopwatch.StartNew();
            await stream.WriteAsync(new[] { (byte)'E' });
            await stream.ReadExactlyAsync(one);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[RoundTrips / 2], times[(int)(RoundTrips * 0.95)]);
    }

    static (double HopBytesPerSecond, double RawBytesPerSecond) CellCrypto()
    {
        var material = RandomNumberGenerator.GetBytes(HopKeys.KeyMaterialSize);
        using var client = new HopKeys(material);
        using var relay = new HopKeys(material);
        var cells = new byte[1024][];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = new byte[Cells.PayloadSize];
            OnionLayers.SealForward([client], 0, RandomNumberGenerator.GetBytes(400), cells[i]);
        }
        var output = new byte[Cells.PayloadSize];
        // The relay opens cells in counter order; sealing more than the 1024 kept would cost the client's time, so
        // the measured loop opens the same 1024 cells' worth of work with fresh relay keys each pass.
        var hopClock = Stopwatch.StartNew();
        var opened = 0;
        while (opened < CryptoCells)
        {
            using var keys = new HopKeys(material);
            foreach (var cell in cells)
            {
                if (keys.OpenForward(cell, output) != HopKeys.Opened.Deliver) throw new InvalidOperationException("a cell did not open");
                opened++;
            }
        }
        var hopRate = (double)opened * Cells.PayloadSize / hopClock.Elapsed.TotalSeconds;

        using var raw = new AesGcm(material[..32], HopKeys.TagSize);
        var nonce = new byte[12];
        var bodies = cells.Select(c => c[HopKeys.TagSize..]).ToArray();
        var tags = new byte[cells.Length][];
        var plain = new byte[HopKeys.BodySize];
        for (var i = 0; i < cells.Length; i++)
        {
            tags[i] = new byte[HopKeys.TagSize];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), (ulong)i);
            raw.Encrypt(nonce, plain, bodies[i], tags[i]);
        }
        var rawClock = Stopwatch.StartNew();
        var decrypted = 0;
        while (decrypted < CryptoCells)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), (ulong)i);
                raw.Decrypt(nonce, bodies[i], tags[i], plain);
                decrypted++;
            }
        }
        var rawRate = (double)decrypted * Cells.PayloadSize / rawClock.Elapsed.TotalSeconds;
        _ = relay;
        return (hopRate, rawRate);
    }

    /// <summary>A loopback server: 'D' + length sends that many bytes; 'E' echoes one byte.</summary>
    sealed class BenchServer : IAsyncDisposable
    {
        readonly TcpListener listener = new(IPAddress.Loopback, 0);
        readonly CancellationTokenSource stopping = new();

        public BenchServer()
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _ = AcceptAsync();
        }

        public int Port { get; }

        async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await listener.AcceptSocketAsync(stopping.Token);
                    socket.NoDelay = true;
                    _ = ServeAsync(new NetworkStream(socket, ownsSocket: true));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        static async Task ServeAsync(NetworkStream stream)
        {
            await using var _ = stream;
            var chunk = RandomNumberGenerator.GetBytes(64 * 1024);
            var command = new byte[1];
            try
            {
                while (await stream.ReadAsync(command) == 1)
                {
                    if (command[0] == 'E')
                    {
                        await stream.WriteAsync(command);
                        continue;
                    }
                    var length = new byte[4];
                    await stream.ReadExactlyAsync(length);
                    var remaining = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(length);
                    while (remaining > 0)
                    {
                        var size = Math.Min(remaining, chunk.Length);
                        await stream.WriteAsync(chunk.AsMemory(0, size));
                        remaining -= size;
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        public ValueTask DisposeAsync()
        {
            stopping.Cancel();
            listener.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
