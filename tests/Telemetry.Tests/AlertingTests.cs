using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.Cache;
using Platform.Telemetry.Alerts;
using Platform.Telemetry.V1;
using Platform.TestSupport;
using StackExchange.Redis;

namespace Platform.Telemetry.Tests;

/// <summary>Rules evaluated over real samples in PostgreSQL, with the evaluation clock set by the test.</summary>
public sealed class AlertingTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    readonly DateTimeOffset now = DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        // The background evaluator first runs an interval after start, so only the test evaluates.
        host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string> { ["Telemetry:Alerts:EvaluationInterval"] = "01:00:00" });
        var batch = new SampleBatch { AgentId = "loader", Sequence = 1 };
        foreach (var (node, value) in new[] { ("a", 95.0), ("b", 10.0) })
            batch.Samples.Add(new Sample { Name = "cpu_hot", Value = value, TimestampMs = now.AddSeconds(-5).ToUnixTimeMilliseconds(), Labels = { ["node"] = node } });
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    HttpClient Operator => host.Http(TestInfrastructure.Token("olga", "operator"));

    Task EvaluateAt(DateTimeOffset at) => host.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync(at, CancellationToken.None);

    async Task<string> CreateRuleAsync(long forMs, long windowMs = 600_000, long repeatIntervalMs = 0)
    {
        using var response = await Operator.PostAsJsonAsync("/api/telemetry/alerts/rules", new
        {
            name = "CpuHot", metric = "cpu_hot", aggregation = "max", by = new[] { "node" }, windowMs, comparator = ">", threshold = 80,
            forMs, repeatIntervalMs, severity = "critical", labels = new { team = "infra" }, summary = "CPU above 80%", runbookUrl = "https://runbooks.example/cpu",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ruleId").GetString()!;
    }

    async Task<JsonElement[]> AlertsAsync(string state = "")
    {
        using var json = JsonDocument.Parse(await host.Http().GetStringAsync($"/api/monitoring/alerts{(state == "" ? "" : $"?state={state}")}"));
        return [.. json.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.Clone())];
    }

    [Fact]
    public async Task Only_the_group_over_the_threshold_fires_with_the_rules_labels()
    {
        await CreateRuleAsync(forMs: 0);

        await EvaluateAt(now);

        var alert = Assert.Single(await AlertsAsync());
        Assert.Equal("firing", alert.GetProperty("state").GetString());
        Assert.Equal(95, alert.GetProperty("value").GetDouble());
        var labels = alert.GetProperty("labels");
        Assert.Equal(("a", "CpuHot", "critical", "infra"), (labels.GetProperty("node").GetString(), labels.GetProperty("alertname").GetString(),
            labels.GetProperty("severity").GetString(), labels.GetProperty("team").GetString()));
        Assert.Equal("https://runbooks.example/cpu", alert.GetProperty("runbookUrl").GetString());
    }

    [Fact]
    public async Task An_alert_is_pending_until_its_for_has_passed_then_fires_then_resolves_with_its_history()
    {
        await CreateRuleAsync(forMs: 60_000, windowMs: 120_000);

        await EvaluateAt(now);
        var pending = Assert.Single(await AlertsAsync());
        await EvaluateAt(now.AddSeconds(30));
        Assert.Equal("pending", Assert.Single(await AlertsAsync()).GetProperty("state").GetString());
        await EvaluateAt(now.AddSeconds(60));
        Assert.Equal("firing", Assert.Single(await AlertsAsync()).GetProperty("state").GetString());
        await EvaluateAt(now.AddMinutes(10)); // the window holds no data any more

        Assert.Equal("pending", pending.GetProperty("state").GetString());
        Assert.Empty(await AlertsAsync());
        var resolved = Assert.Single(await AlertsAsync("resolved"));
        var history = JsonDocument.Parse(await host.Http().GetStringAsync($"/api/telemetry/alerts/{resolved.GetProperty("alertId").GetString()}/history"));
        Assert.Equal(["inactive>pending", "pending>firing", "firing>resolved"],
            history.RootElement.GetProperty("transitions").EnumerateArray().Select(t => $"{t.GetProperty("fromState").GetString()}>{t.GetProperty("toState").GetString()}"));
    }

    [Fact]
    public async Task Acknowledging_records_who_and_why_and_a_resolved_alert_cannot_be_acknowledged()
    {
        await CreateRuleAsync(forMs: 0);
        await EvaluateAt(now);
        var alertId = Assert.Single(await AlertsAsync()).GetProperty("alertId").GetString();

        using var ack = await Operator.PostAsJsonAsync($"/api/monitoring/alerts/{alertId}/acknowledge", new { comment = "on it" });
        var acknowledged = JsonDocument.Parse(await ack.Content.ReadAsStringAsync()).RootElement.GetProperty("acknowledgement");
        await EvaluateAt(now.AddMinutes(30));
        using var late = await Operator.PostAsJsonAsync($"/api/monitoring/alerts/{alertId}/acknowledge", new { comment = "too late" });

        Assert.Equal(("olga", "on it"), (acknowledged.GetProperty("by").GetString(), acknowledged.GetProperty("comment").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("resolved", await late.Content.ReadAsStringAsync());
        Assert.False(Assert.Single(await AlertsAsync("resolved")).TryGetProperty("acknowledgement", out _));
    }

    /// <summary>The notifications of this host's alerts on platform.events.alerts (other tests share the Redis server).</summary>
    async Task<ConcurrentQueue<(string Type, JsonElement Data)>> NotificationsAsync()
    {
        var received = new ConcurrentQueue<(string, JsonElement)>();
        var subscriber = host.Services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Literal(EventPublisher.Channel("alerts")), (_, message) =>
        {
            var envelope = JsonDocument.Parse(message.ToString()).RootElement;
            var data = envelope.GetProperty("data");
            if (data.GetProperty("name").GetString() == "CpuHot" && data.GetProperty("labels").GetProperty("team").GetString() == "infra")
                received.Enqueue((envelope.GetProperty("type").GetString()!, data.Clone()));
        });
        return received;
    }

    async Task<int> NotificationCountAsync(string alertId) =>
        (await AlertsAsync()).Single(a => a.GetProperty("alertId").GetString() == alertId).GetProperty("notifications").GetInt32();

    [Fact]
    public async Task A_firing_alert_is_notified_again_each_repeat_interval_until_someone_acknowledges_it()
    {
        var received = await NotificationsAsync();
        await CreateRuleAsync(forMs: 0, windowMs: 3_600_000, repeatIntervalMs: 600_000);

        await EvaluateAt(now);
        var alertId = Assert.Single(await AlertsAsync()).GetProperty("alertId").GetString()!;
        await EvaluateAt(now.AddMinutes(5));
        Assert.Equal(1, await NotificationCountAsync(alertId));
        await EvaluateAt(now.AddMinutes(11));
        Assert.Equal(2, await NotificationCountAsync(alertId));

        using var ack = await Operator.PostAsJsonAsync($"/api/monitoring/alerts/{alertId}/acknowledge", new { comment = "on it" });
        ack.EnsureSuccessStatusCode();
        await EvaluateAt(now.AddMinutes(22));
        await EvaluateAt(now.AddMinutes(45));

        var alert = (await AlertsAsync()).Single(a => a.GetProperty("alertId").GetString() == alertId);
        Assert.Equal(2, alert.GetProperty("notifications").GetInt32());
        Assert.Equal(now.AddMinutes(11).ToUnixTimeMilliseconds(), long.Parse(alert.GetProperty("lastNotifiedAtMs").GetString()!));
        await Eventually.HoldsAsync(() => received.Count(e => e.Data.GetProperty("alertId").GetString() == alertId) >= 2, "two notifications delivered");
        Assert.Equal([("alert.firing", false, 1), ("alert.firing", true, 2)], received.Where(e => e.Data.GetProperty("alertId").GetString() == alertId)
            .Select(e => (e.Type, e.Data.GetProperty("repeat").GetBoolean(), e.Data.GetProperty("notification").GetInt32())));
    }

    [Fact]
    public async Task An_alert_that_fired_under_a_silence_is_notified_when_the_silence_ends_and_its_resolution_too()
    {
        var received = await NotificationsAsync();
        await CreateRuleAsync(forMs: 0, windowMs: 1_800_000);
        using var silence = await Operator.PostAsJsonAsync("/api/telemetry/alerts/silences", new
        {
            match = new[] { "alertname=CpuHot" }, startsAtMs = now.ToUnixTimeMilliseconds(), endsAtMs = now.AddMinutes(10).ToUnixTimeMilliseconds(), comment = "deploying",
        });
        silence.EnsureSuccessStatusCode();

        await EvaluateAt(now);
        var alertId = Assert.Single(await AlertsAsync()).GetProperty("alertId").GetString()!;
        Assert.Equal(0, await NotificationCountAsync(alertId));
        await EvaluateAt(now.AddMinutes(11));
        Assert.Equal(1, await NotificationCountAsync(alertId));
        await EvaluateAt(now.AddMinutes(40)); // the window holds no data any more: resolved

        await Eventually.HoldsAsync(() => received.Count(e => e.Data.GetProperty("alertId").GetString() == alertId) >= 2, "firing and resolved delivered");
        var resolved = Assert.Single(await AlertsAsync("resolved"));
        Assert.Equal(0, resolved.GetProperty("notifications").GetInt32());
        Assert.Equal(["alert.firing", "alert.resolved"], received.Where(e => e.Data.GetProperty("alertId").GetString() == alertId).Select(e => e.Type));
    }

    [Fact]
    public async Task A_silence_matching_the_alerts_labels_marks_it_silenced()
    {
        await CreateRuleAsync(forMs: 0);
        using var silence = await Operator.PostAsJsonAsync("/api/telemetry/alerts/silences", new
        {
            match = new[] { "node=a", "alertname=CpuHot" }, endsAtMs = now.AddHours(1).ToUnixTimeMilliseconds(), comment = "maintenance",
        });
        await EvaluateAt(now);

        Assert.Equal(HttpStatusCode.OK, silence.StatusCode);
        Assert.True(Assert.Single(await AlertsAsync()).GetProperty("silenced").GetBoolean());
        Assert.Contains("\"author\":\"olga\"", await host.Http().GetStringAsync("/api/telemetry/alerts/silences"));
    }

    [Fact]
    public async Task A_firing_node_down_alert_inhibits_the_same_nodes_load_alert_only()
    {
        var batch = new SampleBatch { AgentId = "loader", Sequence = 2 };
        foreach (var (node, up, busy) in new[] { ("a", 0.0, 9.0), ("b", 1.0, 9.0) })
        {
            batch.Samples.Add(new Sample { Name = "node_up", Value = up, TimestampMs = now.AddSeconds(-5).ToUnixTimeMilliseconds(), Labels = { ["node"] = node } });
            batch.Samples.Add(new Sample { Name = "node_load", Value = busy, TimestampMs = now.AddSeconds(-5).ToUnixTimeMilliseconds(), Labels = { ["node"] = node } });
        }
        await TestAgent.PushAsync(host, batch);
        using var down = await Operator.PostAsJsonAsync("/api/telemetry/alerts/rules", new
        {
            name = "NodeDown", metric = "node_up", aggregation = "min", by = new[] { "node" }, comparator = "<", threshold = 1,
            inhibits = new[] { "alertname=HighLoad" }, inhibitEqual = new[] { "node" },
        });
        using var load = await Operator.PostAsJsonAsync("/api/telemetry/alerts/rules", new
        {
            name = "HighLoad", metric = "node_load", aggregation = "max", by = new[] { "node" }, comparator = ">", threshold = 5,
        });
        Assert.Equal(HttpStatusCode.OK, down.StatusCode);

        await EvaluateAt(now);

        var alerts = (await AlertsAsync()).ToDictionary(
            a => $"{a.GetProperty("name").GetString()}/{a.GetProperty("labels").GetProperty("node").GetString()}",
            a => a.GetProperty("inhibited").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["NodeDown/a"] = false, ["HighLoad/a"] = true, ["HighLoad/b"] = false }, alerts);
    }

    [Fact]
    public async Task A_bad_rule_is_a_400_naming_each_field_and_is_not_stored()
    {
        using var response = await Operator.PostAsJsonAsync("/api/telemetry/alerts/rules", new { name = "x", comparator = "~", threshold = 1, severity = "meh" });
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("metric", body);
        Assert.Contains("comparator", body);
        Assert.Contains("severity", body);
        Assert.DoesNotContain("ruleId", await host.Http().GetStringAsync("/api/telemetry/alerts/rules"));
    }
}
