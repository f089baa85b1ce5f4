using System.Net;
using System.Net.WebSockets;
using System.Text.Json;

namespace Platform.Gateway.Tests;

/// <summary>
/// The seeds' aggregate views when the services behind them do not answer: each section says which and why, the rest
/// still stands, and the live view keeps pushing. (With the services up: Platform.IntegrationTests.SeedViewTests.)
/// </summary>
public sealed class SeedViewTests
{
    static readonly Dictionary<string, string> Unreachable = new[] { "compute", "telemetry", "scheduler", "tokenomics", "privacy" }
        .ToDictionary(service => $"services:{service}:grpc:0", _ => "http://127.0.0.1:1");

    [Fact]
    public async Task A_summary_without_its_services_names_each_failure_and_the_live_view_still_pushes_every_second()
    {
        await using var gateway = await GatewayHost.StartAsync(Unreachable, sockets: true);
        var token = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString()!;

        var stats = JsonDocument.Parse(await gateway.As(token).GetStringAsync("/api/dashboard/stats")).RootElement;
        foreach (var section in new[] { "nodes", "workloads", "idleCompute", "monitoring", "scheduler", "tokenomics", "betanet" })
            Assert.True(stats.GetProperty(section).TryGetProperty("error", out _), $"{section}: {stats.GetProperty(section)}");
        Assert.True(stats.GetProperty("timestamp").GetInt64() > 0);
        using (var anonymous = await gateway.Anonymous().GetAsync("/api/dashboard/stats"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        await using var live = await RealtimeClient.ConnectAsync(gateway, token, path: "/ws/metrics");
        var first = await live.NextAsync(m => m.TryGetProperty("timestamp", out _));
        var second = await live.NextAsync(m => m.TryGetProperty("timestamp", out _));
        Assert.True(second.GetProperty("timestamp").GetInt64() > first.GetProperty("timestamp").GetInt64());
        Assert.True(second.GetProperty("nodes").TryGetProperty("error", out _));
    }

    [Theory]
    [InlineData("/ws/metrics")]
    [InlineData("/ws/monitoring")]
    [InlineData("/api/system/ws")]
    [InlineData("/api/services/ws")]
    public async Task Each_live_view_wants_a_users_token_before_the_upgrade(string path)
    {
        await using var gateway = await GatewayHost.StartAsync(Unreachable, sockets: true);
        var token = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString()!;

        var anonymous = await Assert.ThrowsAsync<WebSocketException>(() => RealtimeClient.ConnectAsync(gateway, null, path: path));
        Assert.Contains("401", anonymous.Message);
        var agentToken = await gateway.AgentTokenAsync();
        var agent = await Assert.ThrowsAsync<WebSocketException>(() => RealtimeClient.ConnectAsync(gateway, agentToken, path: path));
        Assert.Contains("403", agent.Message);
        using var plain = await gateway.As(token).GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        await using var client = await RealtimeClient.ConnectAsync(gateway, token, path: path);
        Assert.Null(client.CloseStatus);
    }

    [Fact]
    public async Task A_view_socket_ends_with_its_token_and_says_why()
    {
        var settings = new Dictionary<string, string>(Unreachable) { ["Gateway:Auth:AccessTokenLifetime"] = "00:00:04" };
        await using var gateway = await GatewayHost.StartAsync(settings, sockets: true);
        var token = (await gateway.LoginAsync("admin", GatewayHost.AdminPassword)).GetProperty("accessToken").GetString()!;
        await using var client = await RealtimeClient.ConnectAsync(gateway, token, path: "/ws/metrics");

        await Assert.ThrowsAsync<WebSocketException>(async () => { while (true) await client.NextAsync(); });
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }
}
