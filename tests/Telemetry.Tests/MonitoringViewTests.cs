using System.Net;
using System.Text.Json;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Seed 002's monitoring views over samples stored in a real PostgreSQL, as a NodeAgent ships them.</summary>
public sealed class MonitoringViewTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    readonly long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    // The last whole minute: a one-minute step is served by the minute rollups, whose buckets start on whole minutes.
    long Minute => now / 60_000 * 60_000 - 60_000;
    readonly string workloadId = Guid.NewGuid().ToString();

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var batch = new SampleBatch { AgentId = "node-a", Sequence = 1 };
        void Add(string name, double value, long ago, params (string, string)[] labels)
        {
            var sample = new Sample { Name = name, Value = value, TimestampMs = now - ago, Labels = { ["node"] = "node-a" } };
            foreach (var (label, text) in labels) sample.Labels[label] = text;
            batch.Samples.Add(sample);
        }
        Add("node_cpu_usage_percent", 20, now - (Minute + 10_000));
        Add("node_cpu_usage_percent", 40, now - (Minute + 40_000));
        Add("node_network_receive_bytes_total", 1_000, now - (Minute + 10_000), ("interface", "eth0"));
        Add("node_network_receive_bytes_total", 4_000, now - (Minute + 40_000), ("interface", "eth0"));
        (string, string)[] workload = [("workload_id", workloadId), ("workload", "web")];
        Add("workload_cpu_seconds_total", 10, 40_000, workload);
        Add("workload_cpu_seconds_total", 16, 10_000, workload);
        Add("workload_memory_rss_bytes", 1_000_000, 40_000, workload);
        Add("workload_memory_rss_bytes", 3_000_000, 10_000, workload);
        Add("workload_processes", 2, 10_000, workload);
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    async Task<JsonElement> GetAsync(string path) => JsonDocument.Parse(await host.Http(TestInfrastructure.Token("vera", "viewer")).GetStringAsync(path)).RootElement.Clone();

    static double Value(JsonElement view, string metric) =>
        view.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("metric").GetString() == metric).GetProperty("points")[0].GetProperty("value").GetDouble();

    [Fact]
    public async Task System_metrics_average_the_gauges_and_turn_the_counters_into_rates_per_node()
    {
        var view = await GetAsync($"/api/monitoring/metrics?startMs={Minute}&endMs={Minute + 60_000}&stepMs=60000");

        Assert.Equal(30, Value(view, "cpu_percent"));
        Assert.Equal(3_000 / 60.0, Value(view, "network_receive_bytes_per_second"), 6); // 3000 bytes over the one-minute bucket
        var cpu = view.GetProperty("series").EnumerateArray().First(s => s.GetProperty("metric").GetString() == "cpu_percent");
        Assert.Equal("percent", cpu.GetProperty("unit").GetString());
        Assert.Equal("node-a", cpu.GetProperty("labels").GetProperty("node").GetString());
        Assert.Empty((await GetAsync($"/api/monitoring/metrics?node=elsewhere&startMs={Minute}&endMs={Minute + 60_000}")).GetProperty("series").EnumerateArray());
    }

    [Fact]
    public async Task Each_workload_shows_its_last_minute_and_its_own_series()
    {
        var usage = (await GetAsync("/api/monitoring/vms")).GetProperty("workloads").EnumerateArray().Single(w => w.GetProperty("workloadId").GetString() == workloadId);
        Assert.Equal(("web", "node-a"), (usage.GetProperty("workload").GetString(), usage.GetProperty("node").GetString()));
        Assert.Equal(6 / 60.0, usage.GetProperty("cpuCores").GetDouble(), 6); // 6 CPU-seconds in the minute: a tenth of a core
        Assert.Equal("2000000", usage.GetProperty("memoryRssBytes").GetString());
        Assert.Equal(2, usage.GetProperty("processes").GetInt32());

        var series = await GetAsync($"/api/vm/vms/{workloadId}/metrics?startMs={now - 60_000}&endMs={now}&stepMs=10000");
        var rss = series.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("metric").GetString() == "memory_rss_bytes").GetProperty("points");
        Assert.Equal([1_000_000, 3_000_000], rss.EnumerateArray().Select(p => p.GetProperty("value").GetDouble()));
        Assert.Equal("cores", series.GetProperty("series").EnumerateArray().First(s => s.GetProperty("metric").GetString() == "cpu_cores").GetProperty("unit").GetString());
    }

    [Fact]
    public async Task An_unknown_workload_is_404_and_a_bad_window_names_its_field()
    {
        var viewer = host.Http(TestInfrastructure.Token("vera", "viewer"));
        using var unknown = await viewer.GetAsync($"/api/vm/vms/{Guid.NewGuid()}/metrics");
        using var notAnId = await viewer.GetAsync("/api/vm/vms/web/metrics");
        using var badStep = await viewer.GetAsync("/api/monitoring/metrics?stepMs=10");
        using var anonymous = await host.AnonymousHttp().GetAsync("/api/monitoring/vms");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notAnId.StatusCode);
        Assert.Contains("workload_id", await notAnId.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badStep.StatusCode);
        Assert.Contains("step_ms", await badStep.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
