using System.Text.Json;
using Grpc.Core;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The seeds' metrics API (/api/v1/metrics/...) over samples stored in a real PostgreSQL.</summary>
public sealed class SeedMetricsApiTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    readonly long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var batch = new SampleBatch { AgentId = "seed-agent", Sequence = 1 };
        batch.Samples.Add(new Sample { Name = "cpu_usage_percent", Value = 40, TimestampMs = now - 2000, Labels = { ["core"] = "0" } });
        batch.Samples.Add(new Sample { Name = "cpu_usage_percent", Value = 60, TimestampMs = now - 1000, Labels = { ["core"] = "0" } });
        batch.Samples.Add(new Sample { Name = "mem_used_bytes", Value = 2048, TimestampMs = now - 1000 });
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    async Task<JsonElement> GetAsync(string path) => JsonDocument.Parse(await host.Http().GetStringAsync(path)).RootElement.Clone();

    static string[] Names(JsonElement body) => [.. body.GetProperty("names").EnumerateArray().Select(n => n.GetString()!)];

    static Dictionary<string, double> Latest(JsonElement body) =>
        body.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("points")[0].GetProperty("value").GetDouble());

    [Fact]
    public async Task Names_search_history_and_filtered_queries()
    {
        Assert.Equal(["cpu_usage_percent", "mem_used_bytes"], Names(await GetAsync("/api/v1/metrics/names")));
        Assert.Equal(["cpu_usage_percent"], Names(await GetAsync("/api/v1/metrics/search?q=CPU")));
        Assert.Empty(Names(await GetAsync("/api/v1/metrics/search?q=cpu%25usage")));
        Assert.Equal(2, (await GetAsync("/api/v1/metrics/history/cpu_usage_percent")).GetProperty("series")[0].GetProperty("points").GetArrayLength());
        Assert.Equal(2, (await GetAsync("/api/v1/metrics?name=cpu_usage_percent")).GetProperty("series")[0].GetProperty("points").GetArrayLength());
        Assert.Equal(60, (await GetAsync($"/api/v1/metrics/aggregated?name=cpu_usage_percent&aggregation=max&stepMs=600000&startMs={now - 5000}&endMs={now + 1000}")).GetProperty("series")[0].GetProperty("points")[0].GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task Realtime_and_per_agent_views_show_each_series_newest_value()
    {
        var realtime = Latest(await GetAsync("/api/v1/metrics/realtime"));
        var mine = Latest(await GetAsync("/api/v1/metrics/agent/seed-agent"));
        var others = Latest(await GetAsync("/api/v1/metrics/agent/someone-else"));

        Assert.Equal(60, realtime["cpu_usage_percent"]);
        Assert.Equal(2048, realtime["mem_used_bytes"]);
        Assert.Equal(realtime, mine);
        Assert.Empty(others);
    }

    [Fact]
    public async Task Stats_count_series_and_the_last_minutes_samples()
    {
        var stats = await GetAsync("/api/v1/metrics/stats");

        Assert.Equal("2", stats.GetProperty("series").GetString());
        Assert.Equal("3", stats.GetProperty("samplesLastMinute").GetString());
        Assert.Equal(3 / 60.0, stats.GetProperty("ingestRate").GetDouble(), precision: 9);
        Assert.True(stats.GetProperty("partitions").GetInt32() >= 3);
    }
}
