using System.Text.Json;
using Grpc.Core;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The seeds' dashboard over stored data; Compute is absent here, and the overview says so.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var batch = new SampleBatch { AgentId = "dash-agent", Sequence = 1 };
        batch.Samples.Add(new Sample { Name = "node_load1", Value = 1, TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    async Task<JsonElement> GetAsync(string path) => JsonDocument.Parse(await host.Http().GetStringAsync(path)).RootElement.Clone();

    [Fact]
    public async Task The_overview_counts_agents_series_and_ingest_and_says_when_Compute_did_not_answer()
    {
        var overview = await GetAsync("/api/v1/dashboard/overview");

        Assert.Equal(1, overview.GetProperty("agentsOnline").GetInt32());
        Assert.Equal("1", overview.GetProperty("series").GetString());
        Assert.Equal(1 / 60.0, overview.GetProperty("ingestRate").GetDouble(), precision: 9);
        Assert.Equal(0, overview.GetProperty("alertsFiring").GetInt32());
        Assert.False(overview.TryGetProperty("nodes", out _));
        Assert.Equal("compute did not answer", overview.GetProperty("nodesError").GetString());
    }

    [Fact]
    public async Task Health_measures_database_cache_and_ingest_freshness()
    {
        var health = await GetAsync("/api/v1/dashboard/health");
        var checks = health.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());

        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal(["cache", "database", "ingestion", "scrape_targets"], checks.Keys.Order());
        Assert.All(checks.Values, status => Assert.Equal("healthy", status));
    }

    [Fact]
    public async Task Activity_lists_an_agents_first_batch()
    {
        var item = Assert.Single((await GetAsync("/api/v1/dashboard/activity")).GetProperty("items").EnumerateArray());

        Assert.Equal(("agent", "dash-agent", "sent its first batch"), (item.GetProperty("kind").GetString(), item.GetProperty("subject").GetString(), item.GetProperty("message").GetString()));
    }
}
