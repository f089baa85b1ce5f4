using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Onion.Client;

namespace Platform.Onion.Tests;

/// <summary>Real circuits over real sockets: three relays, a SOCKS5 entry, HTTP clients nobody here wrote.</summary>
public class CircuitTests
{
    static HttpClient ThroughSocks(IPEndPoint socks) => new(new SocketsHttpHandler { Proxy = new WebProxy($"socks5://{socks}"), UseProxy = true })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task An_http_fetch_through_the_socks_entry_crosses_three_relays_and_returns_the_page()
    {
        await using var network = await TestNetwork.StartAsync();
        await using var socks = new Socks5Server(network.Client, NullLogger.Instance);
        var entry = socks.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var http = ThroughSocks(entry);

        // By name: the exit resolves "localhost", the client never does.
        var page = await http.GetByteArrayAsync(new Uri($"http://localhost:{network.WebAddress.Port}/page"));
        Assert.Equal(TestNetwork.Page, page);

        // An upload bigger than the circuit window: the client waits for the exit's authenticated SENDMEs.
        var upload = new byte[1_500_000];
        Random.Shared.NextBytes(upload);
        var echoed = await (await http.PostAsync(new Uri(network.WebAddress, "/echo"), new ByteArrayContent(upload))).Content.ReadAsByteArrayAsync();
        Assert.Equal(upload, echoed);

        var stats = network.Client.Stats();
        Assert.Equal(1, stats.Built);
        Assert.True(stats.BytesReceived >= page.Length + upload.Length);
        Assert.True(stats.BuildP50Seconds > 0);
        Assert.Equal(0, network.Relays.Sum(r => r.Counters.ProtocolViolations));
        // Every hop carried the page and the upload both ways, the exit included (it seals what it sends back).
        Assert.All(network.Relays, r => Assert.True(r.Counters.BytesRelayed >= page.Length + 2L * upload.Length, $"{r.Counters.BytesRelayed} bytes relayed"));
    }

    [Fact]
    public async Task Each_relay_sees_only_its_neighbours()
    {
        await using var network = await TestNetwork.StartAsync();
        await using var stream = await network.Client.ConnectAsync("127.0.0.1", network.WebAddress.Port, CancellationToken.None);

        // The guard: a link from the client and one to the middle. The middle: one from the guard, one to the exit.
        // The exit: one link in, from the middle. Nobody but the guard has a link from the client; nobody but the exit
        // connects to the destination.
        var guard = network.Guard.Links;
        Assert.Equal(2, guard.Count);
        Assert.Equal(network.Middle.Endpoint!.ToString(), Assert.Single(guard, l => l.Outbound).Peer);
        var middle = network.Middle.Links;
        Assert.Equal(2, middle.Count);
        Assert.Equal(network.Exit.Endpoint!.ToString(), Assert.Single(middle, l => l.Outbound).Peer);
        Assert.DoesNotContain(middle, l => l.Peer == network.Guard.Endpoint!.ToString());
        var exit = Assert.Single(network.Exit.Links);
        Assert.False(exit.Outbound);
        Assert.Equal(1, network.Exit.Counters.StreamsOpened);
        Assert.Equal(0, network.Guard.Counters.StreamsOpened + network.Middle.Counters.StreamsOpened);
    }

    [Fact]
    public async Task The_exit_policy_refuses_destinations_outside_it_and_socks_says_so()
    {
        await using var network = await TestNetwork.StartAsync();
        await using var socks = new Socks5Server(network.Client, NullLogger.Instance);
        var entry = socks.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(entry);
        var s = tcp.GetStream();
        await s.WriteAsync(new byte[] { 5, 1, 0 });
        var method = new byte[2];
        await s.ReadExactlyAsync(method);
        Assert.Equal(new byte[] { 5, 0 }, method);
        // CONNECT 192.0.2.1:80 (TEST-NET-1): not loopback, so the default policy refuses it.
        await s.WriteAsync(new byte[] { 5, 1, 0, 1, 192, 0, 2, 1, 0, 80 });
        var reply = new byte[10];
        await s.ReadExactlyAsync(reply);
        Assert.Equal(0x02, reply[1]);
    }

    [Fact]
    public async Task Curl_fetches_through_the_socks_entry_with_socks5_hostname()
    {
        await using var network = await TestNetwork.StartAsync();
        await using var socks = new Socks5Server(network.Client, NullLogger.Instance);
        var entry = socks.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var curl = Process.Start(new ProcessStartInfo("curl", ["-sS", "--max-time", "60", "--socks5-hostname", entry.ToString(), $"http://localhost:{network.WebAddress.Port}/hello"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());
        Assert.Equal("hello through three hops", output);
    }
}
