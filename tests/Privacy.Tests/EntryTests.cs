using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Platform.Onion;
using Platform.Privacy.V1;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>The service's SOCKS5 entry over the directory's own consensus: real circuits through three relays.</summary>
public sealed class EntryTests : IAsyncLifetime
{
    PrivacyWorld world = null!;
    WebApplication web = null!;
    int webPort;

    public async Task InitializeAsync()
    {
        world = await PrivacyWorld.StartAsync();
        webPort = AppHost.Hosting.Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{webPort}");
        web = builder.Build();
        web.MapGet("/", () => Results.Text("<html>the page behind three relays</html>", "text/html"));
        await web.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await web.DisposeAsync();
        await world.DisposeAsync();
    }

    [Fact]
    public async Task Curl_through_the_entry_returns_the_page_and_the_circuit_shows_its_hops_but_never_the_destination()
    {
        foreach (var node in new[] { "node-a", "node-b", "node-c" })
        {
            await world.AddNodeAsync(node);
            await world.As("olga", "operator").DeployRelayAsync(new DeployRelayRequest { Node = node });
            await world.StartRelayAsync(node, ExitPolicy.Default);
        }
        await world.SignConsensusAsync();

        var curl = Process.Start(new ProcessStartInfo("curl", ["-sS", "--max-time", "60", "--socks5-hostname", $"127.0.0.1:{world.SocksPort}", $"http://localhost:{webPort}/"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var page = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());
        Assert.Equal("<html>the page behind three relays</html>", page);

        using var http = world.Privacy.Http(TestInfrastructure.Token("vic", "viewer"));
        var stats = await http.GetFromJsonAsync<JsonElement>("/api/privacy/stats");
        Assert.Equal("1", stats.GetProperty("built").GetString());
        Assert.Equal($"127.0.0.1:{world.SocksPort}", stats.GetProperty("socksAddress").GetString());
        Assert.True(stats.GetProperty("buildP50Ms").GetDouble() > 0);
        var circuits = await http.GetStringAsync("/api/privacy/circuits");
        var circuit = JsonDocument.Parse(circuits).RootElement.GetProperty("circuits").EnumerateArray().Single();
        Assert.Equal(3, circuit.GetProperty("hops").GetArrayLength());
        Assert.Equal(3, circuit.GetProperty("hops").EnumerateArray().Select(h => h.GetString()).Distinct().Count());
        Assert.DoesNotContain("localhost", circuits);
        Assert.DoesNotContain(webPort.ToString(System.Globalization.CultureInfo.InvariantCulture), circuits);
    }

    [Fact]
    public async Task Without_three_running_relays_the_entry_refuses_and_counts_the_failure()
    {
        await world.AddNodeAsync("node-a");
        await world.As("olga", "operator").DeployRelayAsync(new DeployRelayRequest { Node = "node-a" });
        await world.StartRelayAsync("node-a", ExitPolicy.Default);
        await world.SignConsensusAsync();
        using var http = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"socks5://127.0.0.1:{world.SocksPort}"), UseProxy = true });
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync($"http://127.0.0.1:{webPort}/"));
        var stats = await world.As("vic", "viewer").GetCircuitStatsAsync(new GetCircuitStatsRequest());
        Assert.True(stats.Failed >= 1);
        Assert.Equal(0, stats.Built);
    }
}
