using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// <c>/ws/realtime</c> through the whole platform: each topic that has a publisher today carries the event of a real
/// action (a workload created, a node cordoned, an alert rule firing, the agents' samples stored, the audit record of
/// a request), and what a workload was given in secret never reaches a subscriber.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class RealtimeTests(PlatformFixture fixture)
{
    [Fact]
    public async Task Each_topic_carries_the_event_of_a_real_action_to_a_subscriber()
    {
        var platform = fixture.Platform;
        using var http = platform.CreateHttpClient();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {await LiveSocket.AdminTokenAsync(platform)}");
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await socket.ConnectAsync(new UriBuilder(platform.Gateway) { Scheme = "ws", Path = "/ws/realtime" }.Uri, limit.Token);
        await LiveSocket.SendAsync(socket, new { type = "subscribe", topics = new[] { "nodes", "workloads", "metrics", "alerts", "audit" } }, limit.Token);
        var seen = new List<string>();
        Task<JsonElement> Next(Func<JsonElement, bool> wanted) => LiveSocket.ReceiveUntilAsync(socket, seen, wanted, limit.Token);
        await Next(m => Type(m) == "subscribed");

        using (var created = await http.PostAsJsonAsync("/api/compute/workloads", new
        {
            name = "realtime-probe", driver = "process", command = "sh", args = new[] { "-c", "exec sleep 600" }, env = new { API_SECRET = "hunter2-realtime" },
        }))
            created.EnsureSuccessStatusCode();
        var workload = await Next(m => Topic(m) == "workloads" && EventType(m) == "workload.create");
        Assert.Equal("realtime-probe", workload.GetProperty("event").GetProperty("data").GetProperty("workload").GetProperty("name").GetString());
        var audit = await Next(m => Topic(m) == "audit" && Data(m).GetProperty("action").GetString() == "POST /api/compute/workloads");
        Assert.Equal("admin", Data(audit).GetProperty("actor").GetString());

        var node = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes")[0].GetProperty("nodeId").GetString();
        (await http.PostAsJsonAsync($"/api/compute/nodes/{node}/cordon", new { reason = "realtime probe" })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync($"/api/compute/nodes/{node}/uncordon", new { reason = "" })).EnsureSuccessStatusCode();
        await Next(m => Topic(m) == "nodes" && EventType(m) == "node.cordoned");

        await Next(m => Topic(m) == "metrics" && EventType(m) == "samples.stored");

        using var rule = await http.PostAsJsonAsync("/api/telemetry/alerts/rules", new
        {
            name = "RealtimeProbe", metric = "node_memory_total_bytes", aggregation = "max", by = new[] { "node" }, windowMs = 120_000,
            comparator = ">", threshold = 0, forMs = 0, severity = "info", summary = "a rule that always fires, for the realtime test",
        });
        rule.EnsureSuccessStatusCode();
        var ruleId = JsonDocument.Parse(await rule.Content.ReadAsStringAsync()).RootElement.GetProperty("ruleId").GetString();
        try
        {
            await Next(m => Topic(m) == "alerts" && EventType(m) == "alert.firing");
        }
        finally
        {
            await http.DeleteAsync($"/api/telemetry/alerts/rules/{ruleId}");
        }

        Assert.DoesNotContain(seen, message => message.Contains("hunter2-realtime", StringComparison.Ordinal));
        var workloadId = Data(workload).GetProperty("workload").GetProperty("workloadId").GetString();
        await http.DeleteAsync($"/api/compute/workloads/{workloadId}");
    }

    static string? Type(JsonElement message) => message.GetProperty("type").GetString();
    static string? Topic(JsonElement message) => message.TryGetProperty("topic", out var topic) ? topic.GetString() : null;
    static string? EventType(JsonElement message) => message.TryGetProperty("event", out var envelope) ? envelope.GetProperty("type").GetString() : null;
    static JsonElement Data(JsonElement message) => message.GetProperty("event").GetProperty("data");
}
