using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace Platform.Benchmarks;

/// <summary>
/// Fan-out of live events: N WebSocket clients of the gateway's <c>/ws/realtime</c> subscribed to one topic while a
/// publisher puts 10 events a second on it (as a service does, on Redis) — delivery latency from publish to each
/// client, p50/p99, and the gateway's CPU — against the same fan-out done by N raw Redis pub/sub subscribers of the
/// platform's own Redis-protocol server, in one run on the whole platform (Release AppHost).
/// </summary>
public static class RealtimeBenchmark
{
    const string Topic = "jobs"; // no service publishes on it yet: every event on it is the benchmark's
    const int EventsPerSecond = 10;
    const int Warmup = 30; // three seconds of events first, not counted: both paths measured warm

    public static async Task<int> RunAsync(string appHostDll, int clients, int seconds)
    {
        await using var bench = await BenchPlatform.StartAsync(appHostDll, nodes: 0, "realtime");
        var gatewayPid = bench.Pid("gateway");
        var cache = File.ReadAllText($"/proc/{gatewayPid}/environ").Split('\0').First(e => e.StartsWith("ConnectionStrings__cache=", StringComparison.Ordinal)).Split('=', 2)[1];
        using var redis = await ConnectionMultiplexer.ConnectAsync(cache);
        var token = await LoginAsync(bench.Http, bench.AdminPassword);
        var hub = new UriBuilder(bench.Http.BaseAddress!) { Scheme = "ws", Path = "/ws/realtime" }.Uri;

        // The hub: every client connected and subscribed before the first event.
        var latencies = new LatencyLog();
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < clients; i += 50)
            sockets.AddRange(await Task.WhenAll(Enumerable.Range(i, Math.Min(50, clients - i)).Select(_ => SubscribeAsync(hub, token))));
        using var stopHub = new CancellationTokenSource();
        var readers = sockets.Select(s => ReadHubAsync(s, latencies, stopHub.Token)).ToList();
        var gatewayCpu = ProcessCpu(gatewayPid);
        var serverCpu = ProcessCpu(bench.AppHostPid);
        // Where a stall could come from: the gateway's and this process's garbage collections over the measurement.
        var gatewayGc = await GcPausesAsync(bench.Http);
        var ownPauses = GC.GetTotalPauseDuration();
        var sent = await PublishAsync(redis, RedisChannel.Literal($"platform.events.{Topic}"), seconds);
        await Task.Delay(TimeSpan.FromSeconds(3)); // stragglers
        var hubOwnPauses = GC.GetTotalPauseDuration() - ownPauses;
        var hubGatewayGc = (await GcPausesAsync(bench.Http)) - gatewayGc;
        var hubGatewayCpu = ProcessCpu(gatewayPid) - gatewayCpu;
        var hubServerCpu = ProcessCpu(bench.AppHostPid) - serverCpu;
        var hub50 = latencies.Percentile(0.50);
        var hub99 = latencies.Percentile(0.99);
        var hubDelivered = latencies.Count;
        stopHub.Cancel();
        foreach (var socket in sockets) socket.Abort();
        await Task.WhenAll(readers);

        // The baseline: the same number of raw subscribers of the Redis-protocol server, the same events.
        var raw = new LatencyLog();
        var options = ConfigurationOptions.Parse(cache);
        var endpoint = options.EndPoints[0] switch
        {
            System.Net.DnsEndPoint dns => (dns.Host, dns.Port),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            var other => throw new InvalidOperationException($"cache endpoint {other}"),
        };
        var subscribers = new List<TcpClient>();
        var channel = $"platform.bench.raw.{Guid.NewGuid():N}";
        for (var i = 0; i < clients; i++) subscribers.Add(await RawSubscribeAsync(endpoint, options.Password!, channel));
        using var stopRaw = new CancellationTokenSource();
        var rawReaders = subscribers.Select(s => ReadRawAsync(s, raw, stopRaw.Token)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(1));
        serverCpu = ProcessCpu(bench.AppHostPid);
        var rawSent = await PublishAsync(redis, RedisChannel.Literal(channel), seconds);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rawServerCpu = ProcessCpu(bench.AppHostPid) - serverCpu;
        var (raw50, raw99, rawDelivered) = (raw.Percentile(0.50), raw.Percentile(0.99), raw.Count);
        stopRaw.Cancel();
        foreach (var subscriber in subscribers) subscriber.Dispose();
        await Task.WhenAll(rawReaders);

        Console.WriteLine($"realtime: {clients} clients, one topic, {EventsPerSecond} events/s for {seconds} s ({sent} events)");
        Console.WriteLine($"realtime: /ws/realtime via the gateway  p50 {hub50:F1} ms  p99 {hub99:F1} ms  delivered {hubDelivered}/{sent * clients}  gateway CPU {hubGatewayCpu / seconds:F2} s/s, Redis server CPU {hubServerCpu / seconds:F2} s/s");
        Console.WriteLine($"realtime: raw Redis pub/sub (baseline) p50 {raw50:F1} ms  p99 {raw99:F1} ms  delivered {rawDelivered}/{rawSent * clients}  Redis server CPU {rawServerCpu / seconds:F2} s/s");
        Console.WriteLine($"realtime: spread via the gateway: {latencies.Spread()}; raw: {raw.Spread()}");
        Console.WriteLine($"realtime: garbage collection during the hub's measurement: the gateway paused {hubGatewayGc * 1000:F0} ms in all (its /metrics), the clients' process {hubOwnPauses.TotalMilliseconds:F0} ms");
        Console.WriteLine($"realtime: ratio hub / raw  p50 {hub50 / raw50:F2}x  p99 {hub99 / raw99:F2}x (goal: hub p99 < 100 ms)");
        return 0;
    }

    /// <summary>The gateway's total GC pause time in seconds, from its Prometheus /metrics (the runtime's dotnet.gc.pause.time).</summary>
    static async Task<double> GcPausesAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n').Where(line => !line.StartsWith('#') && line.Contains("gc_pause_time", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    static async Task<string> LoginAsync(HttpClient http, string password)
    {
        using var anonymous = new HttpClient { BaseAddress = http.BaseAddress };
        using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { username = "admin", password });
        return JsonDocument.Parse(await login.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!;
    }

    /// <summary>Publishes <see cref="EventsPerSecond"/> envelopes a second, each carrying the moment it was sent.</summary>
    static async Task<int> PublishAsync(ConnectionMultiplexer redis, RedisChannel channel, int seconds)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / EventsPerSecond));
        var count = seconds * EventsPerSecond;
        for (var n = -Warmup; n < count; n++)
        {
            await timer.WaitForNextTickAsync();
            var envelope = JsonSerializer.Serialize(new { id = Guid.NewGuid().ToString("N"), type = "bench.tick", source = "benchmark", time = DateTimeOffset.UtcNow, data = new { n, sent = Stopwatch.GetTimestamp() } });
            await redis.GetSubscriber().PublishAsync(channel, envelope);
        }
        return count;
    }

    static async Task<ClientWebSocket> SubscribeAsync(Uri hub, string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await socket.ConnectAsync(hub, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"subscribe","topics":["{{Topic}}"]}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[4096];
        var answer = await socket.ReceiveAsync(buffer, CancellationToken.None);
        if (!Encoding.UTF8.GetString(buffer, 0, answer.Count).Contains("\"subscribed\"", StringComparison.Ordinal)) throw new InvalidOperationException("not subscribed");
        return socket;
    }

    static async Task ReadHubAsync(ClientWebSocket socket, LatencyLog log, CancellationToken stop)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), stop);
                if (received.MessageType == WebSocketMessageType.Close) return;
                var at = Stopwatch.GetTimestamp();
                if (Stamp(buffer.AsSpan(0, received.Count)) is { N: >= 0 } stamp) log.Add(stamp.N, at - stamp.Sent);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    static async Task<TcpClient> RawSubscribeAsync((string Host, int Port) endpoint, string password, string channel)
    {
        var client = new TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port);
        var command = $"*2\r\n$4\r\nAUTH\r\n${password.Length}\r\n{password}\r\n*2\r\n$9\r\nSUBSCRIBE\r\n${channel.Length}\r\n{channel}\r\n";
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(command));
        return client;
    }

    /// <summary>Reads a RESP subscriber's stream line by line: each push is message, channel, payload.</summary>
    static async Task ReadRawAsync(TcpClient client, LatencyLog log, CancellationToken stop)
    {
        try
        {
            using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
            while (!stop.IsCancellationRequested && await reader.ReadLineAsync(stop) is { } line)
            {
                if (line != "message") continue;
                await reader.ReadLineAsync(stop); // $len
                await reader.ReadLineAsync(stop); // channel
                await reader.ReadLineAsync(stop); // $len
                var payload = await reader.ReadLineAsync(stop);
                var at = Stopwatch.GetTimestamp();
                if (Stamp(Encoding.UTF8.GetBytes(payload!)) is { N: >= 0 } stamp) log.Add(stamp.N, at - stamp.Sent);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// The event's number and send time, found in the message without parsing all of it: the load generator shares the
    /// machine's two cores with what it measures, so it does as little as it can per message (the same on both paths).
    /// </summary>
    static (int N, long Sent)? Stamp(ReadOnlySpan<byte> message)
    {
        var n = Number(message, "\"n\":"u8);
        var sent = Number(message, "\"sent\":"u8);
        return n is null || sent is null ? null : ((int)n.Value, sent.Value);
    }

    static long? Number(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key)
    {
        var at = message.IndexOf(key);
        if (at < 0) return null;
        var rest = message[(at + key.Length)..];
        var end = rest.IndexOfAny(",}"u8);
        return System.Buffers.Text.Utf8Parser.TryParse(rest[..end], out long value, out _) ? value : null;
    }

    /// <summary>User + system CPU seconds of a process so far, from /proc.</summary>
    static double ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (double.Parse(fields[11]) + double.Parse(fields[12])) / 100;
    }

    sealed class LatencyLog
    {
        readonly List<long> ticks = [];
        readonly Dictionary<int, long> slowestPerEvent = [];

        public void Add(int n, long elapsed)
        {
            lock (ticks)
            {
                ticks.Add(elapsed);
                slowestPerEvent[n] = Math.Max(elapsed, slowestPerEvent.GetValueOrDefault(n));
            }
        }

        public int Count { get { lock (ticks) return ticks.Count; } }

        /// <summary>Where the tail comes from: how many events reached their slowest client after 100 ms, and which.</summary>
        public string Spread()
        {
            lock (ticks)
            {
                var slow = slowestPerEvent.Where(e => e.Value * 1000.0 / Stopwatch.Frequency > 100).OrderBy(e => e.Key).ToList();
                return $"{slow.Count} of {slowestPerEvent.Count} events reached some client after 100 ms"
                    + (slow.Count == 0 ? "" : $" (events {string.Join(", ", slow.Take(12).Select(e => $"#{e.Key}: {e.Value * 1000.0 / Stopwatch.Frequency:F0} ms"))})");
            }
        }

        public double Percentile(double p)
        {
            lock (ticks)
            {
                if (ticks.Count == 0) return double.NaN;
                var sorted = ticks.Order().ToList();
                return sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))] * 1000.0 / Stopwatch.Frequency;
            }
        }
    }
}
