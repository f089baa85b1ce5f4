using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// The seeds' aggregate views through the gateway, over the running platform: every section is the services' own
/// figures (the nodes the AppHost started, the series the agents shipped), and each live view speaks its seed's shape.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class SeedViewTests(PlatformFixture fixture)
{
    [Fact]
    public async Task The_dashboard_stats_hold_every_services_figures_and_ws_metrics_pushes_them_every_second()
    {
        var platform = fixture.Platform;
        using var http = platform.CreateHttpClient();
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").GetArrayLength();

        foreach (var path in new[] { "/api/dashboard/stats", "/api/dashboard/metrics" })
        {
            var stats = JsonDocument.Parse(await http.GetStringAsync(path)).RootElement;
            foreach (var section in stats.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
                Assert.False(section.Value.TryGetProperty("error", out var error), $"{path} {section.Name}: {error}");
            Assert.Equal(nodes, stats.GetProperty("nodes").GetProperty("total").GetInt32());
            Assert.True(long.Parse(stats.GetProperty("monitoring").GetProperty("series").GetString()!) > 0);
            // The ledger's own figure: reward epochs mint as the nodes' work is measured, so the supply only grows meanwhile.
            var supply = long.Parse(stats.GetProperty("tokenomics").TryGetProperty("totalSupply", out var shown) ? shown.GetString()! : "0");
            var ledger = JsonDocument.Parse(await http.GetStringAsync("/api/tokenomics/stats")).RootElement;
            Assert.InRange(supply, 0, long.Parse(ledger.TryGetProperty("totalSupply", out var total) ? total.GetString()! : "0"));
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var socket = await LiveSocket.ConnectAsync(platform, "/ws/metrics", limit.Token);
        var seen = new List<string>();
        var first = await LiveSocket.ReceiveUntilAsync(socket, seen, _ => true, limit.Token);
        var second = await LiveSocket.ReceiveUntilAsync(socket, seen, _ => true, limit.Token);
        Assert.Equal(nodes, second.GetProperty("nodes").GetProperty("total").GetInt32());
        Assert.True(second.GetProperty("timestamp").GetInt64() > first.GetProperty("timestamp").GetInt64());
        Assert.True(second.TryGetProperty("idleCompute", out _) && second.TryGetProperty("scheduler", out _) && second.TryGetProperty("betanet", out _));
    }

    [Fact]
    public async Task Api_info_tells_the_version_each_services_health_and_which_nodes_can_run_each_driver()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").GetArrayLength();
        var info = JsonDocument.Parse(await http.GetStringAsync("/api/info")).RootElement;

        Assert.Equal("/openapi.json", info.GetProperty("apiReference").GetString());
        foreach (var service in new[] { "compute", "telemetry", "scheduler", "tokenomics", "privacy" })
            Assert.Equal("healthy", info.GetProperty("services").GetProperty(service).GetString());
        Assert.Equal(nodes, info.GetProperty("drivers").GetProperty("process").GetProperty("availableOn").GetInt32());
        Assert.Contains(info.GetProperty("realtime").GetProperty("topics").EnumerateArray(), t => t.GetString() == "workloads");
    }

    [Fact]
    public async Task Security_shows_the_gateways_certificate_expiry_and_each_nodes_driver_isolation()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var security = JsonDocument.Parse(await http.GetStringAsync("/api/security")).RootElement;

        var certificate = security.GetProperty("certificate");
        Assert.True(certificate.GetProperty("configured").GetBoolean(), certificate.ToString());
        Assert.True(certificate.GetProperty("daysLeft").GetDouble() > 0);
        var nodes = security.GetProperty("drivers").EnumerateArray().ToList();
        Assert.True(nodes.Count >= 2);
        var process = nodes[0].GetProperty("drivers").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "process");
        Assert.Contains("uid", process.GetProperty("isolation").GetProperty("user").GetString());
        Assert.True(security.GetProperty("auditChain").GetProperty("valid").GetBoolean());
    }

    [Fact]
    public async Task The_system_view_pushes_each_nodes_measured_use_and_the_monitoring_view_each_nodes_newest_samples()
    {
        var platform = fixture.Platform;
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var seen = new List<string>();

        using var system = await LiveSocket.ConnectAsync(platform, "/api/system/ws", limit.Token);
        var stats = await LiveSocket.ReceiveUntilAsync(system, seen, m => m.GetProperty("nodes").ValueKind == JsonValueKind.Array
            && m.GetProperty("nodes").EnumerateArray().Any(n => n.GetProperty("measured").GetBoolean()), limit.Token);
        Assert.Equal("stats", stats.GetProperty("type").GetString());
        var measured = stats.GetProperty("nodes").EnumerateArray().First(n => n.GetProperty("measured").GetBoolean());
        Assert.InRange(measured.GetProperty("cpuPercent").GetDouble(), 0, 100);
        Assert.True(long.Parse(measured.GetProperty("memoryUsedBytes").GetString()!) > 0);

        using var monitoring = await LiveSocket.ConnectAsync(platform, "/ws/monitoring", limit.Token);
        var metrics = await LiveSocket.ReceiveUntilAsync(monitoring, seen, m => m.GetProperty("system") is { ValueKind: JsonValueKind.Array } s && s.GetArrayLength() > 0, limit.Token);
        Assert.Equal("metrics", metrics.GetProperty("type").GetString());
        var node = metrics.GetProperty("system")[0];
        Assert.False(string.IsNullOrEmpty(node.GetProperty("node").GetString()));
        Assert.InRange(node.GetProperty("metrics").GetProperty("memory_used_percent").GetDouble(), 0.001, 100);
        Assert.Equal(JsonValueKind.Array, metrics.GetProperty("vms").ValueKind);
    }

    [Fact]
    public async Task The_services_view_sends_a_workloads_status_when_it_changes()
    {
        var platform = fixture.Platform;
        using var http = platform.CreateHttpClient();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var seen = new List<string>();
        using var socket = await LiveSocket.ConnectAsync(platform, "/api/services/ws", limit.Token);
        await LiveSocket.ReceiveUntilAsync(socket, seen, m => m.GetProperty("type").GetString() == "services", limit.Token);

        var name = $"services-view-{Guid.NewGuid():N}"[..24];
        using var created = await http.PostAsJsonAsync("/api/compute/workloads", new { name, driver = "process", command = "sleep", args = new[] { "600" } });
        created.EnsureSuccessStatusCode();
        var workloadId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("workload").GetProperty("workloadId").GetString();
        try
        {
            var running = await LiveSocket.ReceiveUntilAsync(socket, seen, m => m.GetProperty("services").EnumerateArray()
                .Any(s => s.GetProperty("name").GetString() == name && s.GetProperty("powerState").GetString() == "running"), limit.Token);
            var entry = running.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
            Assert.Equal(workloadId, entry.GetProperty("workloadId").GetString());
            Assert.True(entry.GetProperty("pid").GetInt32() > 0);

            // Seed 002's VM metrics: the workload's own series, shipped by its node's agent, through the gateway to Telemetry.
            JsonElement metrics;
            while (true)
            {
                // 404 until the agent's first sample of it is stored.
                using var response = await http.GetAsync($"/api/vm/vms/{workloadId}/metrics?stepMs=10000", limit.Token);
                metrics = response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(limit.Token)).RootElement.Clone() : default;
                if (metrics.ValueKind == JsonValueKind.Object && metrics.GetProperty("series").EnumerateArray().Any(s => s.GetProperty("metric").GetString() == "memory_rss_bytes")) break;
                Assert.True(response.IsSuccessStatusCode || response.StatusCode == System.Net.HttpStatusCode.NotFound, $"{response.StatusCode}");
                await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
            }
            var rss = metrics.GetProperty("series").EnumerateArray().First(s => s.GetProperty("metric").GetString() == "memory_rss_bytes");
            Assert.Equal(name, rss.GetProperty("labels").GetProperty("workload").GetString());
            Assert.True(rss.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble() > 0);
        }
        finally
        {
            await http.DeleteAsync($"/api/compute/workloads/{workloadId}");
        }
    }

    [Fact]
    public async Task Seed_003s_idle_compute_and_seed_002s_monitoring_paths_answer_through_the_gateway()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var stats = JsonDocument.Parse(await http.GetStringAsync("/api/idle-compute/stats")).RootElement;
        var devices = JsonDocument.Parse(await http.GetStringAsync("/api/idle-compute/devices")).RootElement;
        Assert.Equal(devices.TryGetProperty("devices", out var list) ? list.GetArrayLength() : 0, stats.TryGetProperty("devices", out var count) ? count.GetInt32() : 0);
        var system = JsonDocument.Parse(await http.GetStringAsync("/api/monitoring/metrics?stepMs=10000")).RootElement;
        Assert.Contains(system.GetProperty("series").EnumerateArray(), s => s.GetProperty("metric").GetString() == "cpu_percent");
        using var unknown = await http.DeleteAsync($"/api/idle-compute/devices/{Guid.NewGuid()}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
