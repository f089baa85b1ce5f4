using System.Net;
using System.Text.Json;
using Grpc.Core;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Range queries over known samples in a real PostgreSQL, through REST.</summary>
public sealed class RangeQueryTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    readonly DateTimeOffset t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60).AddMinutes(-30);

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var batch = new SampleBatch { AgentId = "loader", Sequence = 1 };
        void Add(string name, string node, int second, double value) =>
            batch.Samples.Add(new Sample { Name = name, Value = value, TimestampMs = t0.AddSeconds(second).ToUnixTimeMilliseconds(), Labels = { ["node"] = node } });
        // A counter that resets at 80 s, and a gauge on two nodes.
        foreach (var (second, value) in new[] { (0, 0.0), (20, 10), (40, 20), (60, 30), (80, 5), (100, 15) }) Add("req_total", "a", second, value);
        foreach (var (second, value) in new[] { (0, 1.0), (20, 2), (40, 3) }) Add("temp", "a", second, value);
        foreach (var (second, value) in new[] { (0, 10.0), (20, 20) }) Add("temp", "b", second, value);

        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    async Task<List<(Dictionary<string, string> Labels, double[] Values)>> QueryAsync(string query)
    {
        var url = $"/api/telemetry/query_range?startMs={t0.ToUnixTimeMilliseconds()}&endMs={t0.AddSeconds(120).ToUnixTimeMilliseconds()}&stepMs=60000&{query}";
        using var json = JsonDocument.Parse(await host.Http().GetStringAsync(url));
        return [.. json.RootElement.GetProperty("series").EnumerateArray().Select(s => (
            s.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            s.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToArray()))];
    }

    [Theory]
    [InlineData("avg", 7.2)]
    [InlineData("min", 1)]
    [InlineData("max", 20)]
    [InlineData("count", 5)]
    [InlineData("p50", 3)]
    [InlineData("sum", 17)] // the nodes' averages, 2 and 15, added
    public async Task Aggregations_over_all_matched_series(string aggregation, double expected)
    {
        var group = Assert.Single(await QueryAsync($"name=temp&aggregation={aggregation}"));

        Assert.Empty(group.Labels);
        Assert.Equal(expected, Assert.Single(group.Values), precision: 9);
    }

    [Fact]
    public async Task Grouping_by_a_label_and_matching_on_one()
    {
        var byNode = await QueryAsync("name=temp&aggregation=avg&by=node");
        var onlyB = await QueryAsync("name=temp&aggregation=max&match=node%3Db");

        Assert.Equal([("a", 2.0), ("b", 15.0)], byNode.Select(g => (g.Labels["node"], g.Values.Single())));
        Assert.Equal(20, Assert.Single(Assert.Single(onlyB).Values));
    }

    [Fact]
    public async Task Increase_and_rate_count_a_counter_reset_as_a_restart_from_zero()
    {
        var increase = Assert.Single(await QueryAsync("name=req_total&aggregation=increase"));
        var rate = Assert.Single(await QueryAsync("name=req_total&aggregation=rate"));

        // [0, 60 s): 10 + 10; [60, 120 s): 10, then 5 after the reset, then 10.
        Assert.Equal([20.0, 25.0], increase.Values);
        Assert.Equal([20.0 / 60, 25.0 / 60], rate.Values);
    }

    [Theory]
    [InlineData("name=temp&stepMs=500", "step_ms")]
    [InlineData("name=temp&aggregation=median", "aggregation")]
    [InlineData("name=temp&match=nonsense", "match")]
    [InlineData("aggregation=avg", "name")]
    public async Task Bad_queries_are_400_naming_the_field(string query, string field)
    {
        using var response = await host.Http().GetAsync($"/api/telemetry/query_range?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync());
    }
}
