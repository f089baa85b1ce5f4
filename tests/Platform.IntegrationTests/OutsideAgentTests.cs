using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Platform.TestSupport;

namespace Platform.IntegrationTests;

/// <summary>
/// Real clients nobody here wrote push through the gateway with agent tokens an admin issued, configured the way the
/// README tells: Prometheus remote_write, the OpenTelemetry .NET SDK's OTLP exporter, and a WebSocket agent with
/// <c>access_token</c> on the URL.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class OutsideAgentTests(PlatformFixture fixture)
{
    async Task<string> AgentTokenAsync(string agentId)
    {
        using var admin = fixture.Platform.CreateHttpClient();
        using var response = await admin.PostAsJsonAsync("/api/auth/agents", new { agentId, name = $"{agentId} (test)", expiresInDays = 1 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    async Task<List<JsonElement>> SeriesAsync(string metric)
    {
        using var http = fixture.Platform.CreateHttpClient();
        return [.. JsonDocument.Parse(await http.GetStringAsync($"/api/telemetry/metrics/{metric}/samples")).RootElement.GetProperty("series").EnumerateArray()];
    }

    [Fact]
    public async Task Prometheus_remote_writes_through_the_gateway_with_an_agent_token()
    {
        var token = await AgentTokenAsync("prometheus-gw");
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var folder = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: prom-gw
                static_configs:
                  - targets: ['127.0.0.1:{port}']
            remote_write:
              - url: {new Uri(fixture.Platform.Gateway, "/api/v1/write")}
                authorization:
                  type: Bearer
                  credentials: {token}
                queue_config:
                  batch_send_deadline: 1s
            """);
        try
        {
            using var prometheus = new RunningPeer("prometheus", [$"--config.file={config}", $"--storage.tsdb.path={folder}/data", $"--web.listen-address=127.0.0.1:{port}"]);
            await Eventually.HoldsAsync(async () => (await SeriesAsync("prometheus_build_info")).Any(s => s.GetProperty("labels").GetProperty("job").GetString() == "prom-gw"),
                "Prometheus's own metrics stored", TimeSpan.FromSeconds(60));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_OpenTelemetry_SDK_exports_through_the_gateway_with_an_agent_token()
    {
        var token = await AgentTokenAsync("otel-gw");
        using var meter = new Meter("gateway.otel.test");
        using var provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("otel-gw-shop"))
            .AddMeter(meter.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(fixture.Platform.Gateway, "/v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Headers = $"Authorization=Bearer {token}"; // what OTEL_EXPORTER_OTLP_HEADERS says
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build();
        meter.CreateCounter<long>("gateway.parcels.sent").Add(3);

        Assert.True(provider.ForceFlush(30_000));

        var series = Assert.Single(await SeriesAsync("gateway_parcels_sent_total"));
        Assert.Equal("otel-gw-shop", series.GetProperty("labels").GetProperty("job").GetString());
        Assert.Equal(3, series.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task A_WebSocket_agent_connects_with_its_token_on_the_url_and_cannot_speak_for_another()
    {
        var token = await AgentTokenAsync("ws-gw");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Uri Connect(string agentId) => new UriBuilder(fixture.Platform.Gateway) { Scheme = "ws", Path = "/api/v1/agents/connect", Query = $"agent_id={agentId}&access_token={token}" }.Uri;

        using var impostor = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => impostor.ConnectAsync(Connect("someone-else"), timeout.Token));
        Assert.Contains("403", refused.Message);

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Connect("ws-gw"), timeout.Token);
        var metrics = new { type = "metrics", data = new { sequence = 1, metrics = new[] { new { name = "ws_gw_temperature_celsius", value = 21.5 } } }, timestamp = DateTimeOffset.UtcNow };
        await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(metrics), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[64 * 1024];
        JsonElement message;
        do
        {
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            message = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, received.Count)).RootElement.Clone();
        }
        while (message.GetProperty("type").GetString() != "ack");
        Assert.Equal(1, message.GetProperty("data").GetProperty("accepted").GetInt32());
        Assert.Contains("21.5", JsonSerializer.Serialize(await SeriesAsync("ws_gw_temperature_celsius")));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
    }
}
