using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>WebSockets through the gateway: the seeds' agent protocol reaches Telemetry via YARP.</summary>
[Collection(PlatformCollection.Name)]
public sealed class GatewayWebSocketTests(PlatformFixture fixture)
{
    [Fact]
    public async Task A_WebSocket_agent_connects_through_the_gateway_and_its_metrics_are_stored()
    {
        var platform = fixture.Platform;
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {await platform.AgentTokenAsync("edge-gw")}");
        var uri = new UriBuilder(platform.Gateway) { Scheme = "ws", Path = "/api/v1/agents/connect", Query = "agent_id=edge-gw&provider=onprem&region=lab" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await socket.ConnectAsync(uri, timeout.Token);
        var metrics = new { type = "metrics", data = new { sequence = 1, metrics = new[] { new { name = "edge_temperature_celsius", value = 41.5 } } }, timestamp = DateTimeOffset.UtcNow };
        await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(metrics), WebSocketMessageType.Text, true, timeout.Token);

        JsonElement ack;
        do ack = await ReceiveAsync(socket, timeout.Token);
        while (ack.GetProperty("type").GetString() != "ack");
        Assert.Equal(1, ack.GetProperty("data").GetProperty("accepted").GetInt32());

        using var http = platform.CreateHttpClient();
        Assert.Contains("41.5", await http.GetStringAsync("/api/telemetry/metrics/edge_temperature_celsius/samples"));
        Assert.Contains("\"provider\":\"onprem\"", await http.GetStringAsync("/api/v1/agents/edge-gw"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
    }

    static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        using var message = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
        return message.RootElement.Clone();
    }
}
