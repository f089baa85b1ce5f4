using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.IntegrationTests;

/// <summary>
/// The onion network on a platform of its own with three nodes: relays deployed through the gateway run inside the
/// three NodeAgents, the directory signs them into a consensus, and curl fetches a page through the platform's SOCKS5
/// entry across all three — then the relays' own measurements show up in betanet status and the p2p links, and the
/// next reward epochs pay the relays' nodes for the bytes they carried.
/// </summary>
public sealed class PrivacyTests : IAsyncLifetime
{
    PlatformProcess platform = null!;
    readonly HttpListener web = new();
    int webPort;

    public async Task InitializeAsync()
    {
        platform = await PlatformProcess.StartAsync(nodes: 3, environment: new Dictionary<string, string>
        {
            ["Privacy__ConsensusInterval"] = "00:00:02",
            ["Privacy__PublishInterval"] = "00:00:02",
            ["NodeAgent__Relay__RolePollInterval"] = "00:00:01",
            ["NodeAgent__MetricsInterval"] = "00:00:01",
            ["Tokenomics__Rewards__EpochSeconds"] = "15",
            ["Tokenomics__Rewards__SettleSeconds"] = "5",
        });
        // A destination on loopback, which the relays' default exit policy allows.
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        webPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        web.Prefixes.Add($"http://localhost:{webPort}/");
        web.Start();
        _ = Task.Run(async () =>
        {
            var body = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("onion ", 50_000)));
            while (web.IsListening)
            {
                try
                {
                    var context = await web.GetContextAsync();
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
    }

    public async Task DisposeAsync()
    {
        web.Close();
        await platform.DisposeAsync();
    }

    static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Curl_through_the_platforms_socks_entry_crosses_relays_in_three_node_agents()
    {
        using var admin = platform.CreateHttpClient();
        for (var i = 0; i < 3; i++)
            Assert.True((await OkAsync(await admin.PostAsJsonAsync("/api/betanet/deploy", new { }))).GetProperty("chosen").GetBoolean());
        using (var fourth = await admin.PostAsJsonAsync("/api/betanet/deploy", new { })) Assert.Equal(HttpStatusCode.Conflict, fourth.StatusCode);
        using (var bad = await admin.PostAsJsonAsync("/api/betanet/deploy", new { exitPolicy = new[] { "accept nowhere" } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("exit_policy[0]", await bad.Content.ReadAsStringAsync());
        }

        // The agents start their relays, publish, and the authority proves each one before listing it Running.
        await Eventually.HoldsAsync(async () => (await OkAsync(await admin.GetAsync("/api/betanet/status"))).GetProperty("running").GetInt32() == 3,
            "three running relays", TimeSpan.FromSeconds(90));

        var socks = (await OkAsync(await admin.GetAsync("/api/privacy/stats"))).GetProperty("socksAddress").GetString()!;
        var curl = Process.Start(new ProcessStartInfo("curl", ["-sS", "--max-time", "60", "--socks5-hostname", socks, $"http://localhost:{webPort}/"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var page = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync() + platform.ErrorLines());
        Assert.Equal(300_000, page.Length);

        var circuits = await OkAsync(await admin.GetAsync("/api/privacy/circuits"));
        var hops = circuits.GetProperty("circuits")[0].GetProperty("hops").EnumerateArray().Select(h => h.GetString()).ToList();
        Assert.Equal(3, hops.Distinct().Count());

        // What the relays measured reaches Telemetry, and from there the status and the p2p links.
        await Eventually.HoldsAsync(async () =>
        {
            var status = await OkAsync(await admin.GetAsync("/api/betanet/status"));
            return status.GetProperty("relays").EnumerateArray().All(r => r.TryGetProperty("cellsRelayed", out var cells) && cells.GetDouble() > 0);
        }, "every relay's cells relayed in Telemetry", TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(async () =>
            (await OkAsync(await admin.GetAsync("/api/p2p/stats"))).GetProperty("links").EnumerateArray().Count(l => hops.Contains(l.GetProperty("toNode").GetString())) >= 2,
            "the guard→middle and middle→exit links", TimeSpan.FromSeconds(60));

        // Tokenomics pays each relay's node for the GiB it relayed, at the genesis rate of 10,000 units a GiB.
        var paid = new List<JsonElement>();
        var payment = Eventually.HoldsAsync(async () =>
        {
            var epochs = (await OkAsync(await admin.GetAsync("/api/tokenomics/epochs?limit=50"))).GetProperty("epochs");
            paid = [.. epochs.EnumerateArray().SelectMany(e => e.TryGetProperty("nodes", out var n) ? n.EnumerateArray() : Enumerable.Empty<JsonElement>())
                .Where(n => n.TryGetProperty("relayGib", out var gib) && gib.GetDouble() > 0)];
            // The page's 300,000 bytes crossed every hop (in cells, so a little more), whichever epochs they fell in.
            return hops.All(h => paid.Where(n => n.GetProperty("node").GetString() == h).Sum(n => n.GetProperty("relayGib").GetDouble()) * 1024 * 1024 * 1024 >= 300_000);
        }, "epochs that paid every hop's node for the page it relayed", TimeSpan.FromSeconds(90));
        try { await payment; }
        catch (TimeoutException timeout) { throw new TimeoutException($"{timeout.Message}; hops {string.Join(", ", hops)}; paid {string.Join(", ", paid)}"); }
        Assert.All(paid, n => Assert.True(long.Parse(n.GetProperty("reward").GetString()!) >= (long)Math.Floor(n.GetProperty("relayGib").GetDouble() * 10_000), $"{n}"));
    }
}
