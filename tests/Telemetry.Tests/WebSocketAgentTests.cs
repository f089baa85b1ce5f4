using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The seeds' WebSocket agent protocol, spoken by a real WebSocket client against Telemetry.</summary>
public sealed class WebSocketAgentTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    WebSocket socket = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var client = host.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {TestInfrastructure.Token("ws-1", "agent")}";
        socket = await client.ConnectAsync(new Uri(host.Server.BaseAddress, "/api/v1/agents/connect?agent_id=ws-1&provider=gcp&region=us-central1"), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        socket.Dispose();
        await host.DisposeAsync();
    }

    async Task SendAsync(object message) =>
        await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);

    async Task<JsonElement> ReceiveAsync(string type)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var buffer = new byte[64 * 1024];
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            using var message = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
            if (message.RootElement.GetProperty("type").GetString() == type) return message.RootElement.Clone();
        }
    }

    static object Metrics(long? sequence, params object[] metrics) =>
        new { type = "metrics", data = sequence is null ? (object)new { metrics } : new { sequence, metrics }, timestamp = DateTimeOffset.UtcNow };

    [Fact]
    public async Task An_agent_registers_sends_metrics_once_and_appears_in_the_registry()
    {
        Assert.Equal(JsonValueKind.Object, (await ReceiveAsync("config")).GetProperty("data").ValueKind);
        await SendAsync(new { type = "registration", data = new { hostname = "edge-host", version = "2.1.0", labels = new { rack = "r1" } }, timestamp = DateTimeOffset.UtcNow });
        Assert.Equal("registration", (await ReceiveAsync("ack")).GetProperty("data").GetProperty("of").GetString());

        var now = DateTimeOffset.UtcNow;
        var metric = new { name = "cpu_usage_percent", value = 12.5, labels = new { core = "0" }, timestamp = now.ToString("O") };
        await SendAsync(Metrics(1, metric, new { name = "memory_used_bytes", value = 1024.0, timestamp = now.ToUnixTimeMilliseconds() }));
        var first = (await ReceiveAsync("ack")).GetProperty("data");
        await SendAsync(Metrics(1, metric));
        var again = (await ReceiveAsync("ack")).GetProperty("data");

        Assert.Equal(2, first.GetProperty("accepted").GetInt32());
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        var agent = JsonDocument.Parse(await host.Http().GetStringAsync("/api/v1/agents/ws-1")).RootElement;
        Assert.Equal("gcp", agent.GetProperty("provider").GetString());
        Assert.Equal("us-central1", agent.GetProperty("region").GetString());
        Assert.Equal("edge-host", agent.GetProperty("hostname").GetString());
        Assert.Equal("r1", agent.GetProperty("labels").GetProperty("rack").GetString());
        Assert.Equal("online", agent.GetProperty("status").GetString());
        var samples = await host.Http().GetStringAsync("/api/telemetry/metrics/cpu_usage_percent/samples");
        Assert.Contains("12.5", samples);
    }

    [Fact]
    public async Task A_bad_batch_gets_an_error_naming_the_field_and_the_connection_stays_open()
    {
        await SendAsync(Metrics(5, new { name = "ok_metric", value = 1.0 }, new { name = "bad name", value = 2.0 }));
        var error = (await ReceiveAsync("error")).GetProperty("data");
        await SendAsync(new { type = "teleport" });
        var unknown = (await ReceiveAsync("error")).GetProperty("data");
        await SendAsync(Metrics(null, new { name = "ok_metric", value = 3.0 }));
        var ack = (await ReceiveAsync("ack")).GetProperty("data");

        Assert.Equal("invalid_argument", error.GetProperty("code").GetString());
        Assert.Equal("samples[1].name", error.GetProperty("violations")[0].GetProperty("field").GetString());
        Assert.Equal("unknown_type", unknown.GetProperty("code").GetString());
        Assert.Equal(1, ack.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task A_configuration_change_is_pushed_to_the_connected_agent()
    {
        await ReceiveAsync("config");
        using var put = await host.Http(TestInfrastructure.Token("olga", "operator"))
            .PutAsJsonAsync("/api/v1/agents/ws-1/config", new { intervalSeconds = 30 });
        put.EnsureSuccessStatusCode();

        var pushed = await ReceiveAsync("config");

        Assert.Equal(30, pushed.GetProperty("data").GetProperty("intervalSeconds").GetDouble());
    }

    [Fact]
    public async Task A_token_for_another_agent_cannot_connect()
    {
        var client = host.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {TestInfrastructure.Token("ws-2", "agent")}";

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(new Uri(host.Server.BaseAddress, "/api/v1/agents/connect?agent_id=ws-1"), CancellationToken.None));

        Assert.Contains("403", refused.Message);
    }
}
