using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The seeds' agent API over a real PostgreSQL: agents appear when they send, with their stats and config.</summary>
public sealed class AgentRegistryTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        var batch = new SampleBatch { AgentId = "edge-1", Sequence = 1 };
        batch.Samples.AddRange(Enumerable.Range(0, 3).Select(i => new Sample { Name = "node_load1", Value = i, TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - i }));
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    HttpClient Operator => host.Http(TestInfrastructure.Token("olga", "operator"));

    async Task<JsonElement> GetAsync(string path)
    {
        using var json = JsonDocument.Parse(await host.Http().GetStringAsync(path));
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task An_agent_that_sent_a_batch_is_listed_online_with_its_stats_and_counted_in_the_fleet()
    {
        var listed = (await GetAsync("/api/v1/agents?status=online")).GetProperty("agents").EnumerateArray().Single();
        var stats = await GetAsync("/api/v1/agents/edge-1/stats");
        var summary = await GetAsync("/api/v1/agents/summary/stats");

        Assert.Equal("edge-1", listed.GetProperty("agentId").GetString());
        Assert.Equal("1", stats.GetProperty("batches").GetString());
        Assert.Equal("3", stats.GetProperty("samples").GetString());
        Assert.Equal("1", stats.GetProperty("lastSequence").GetString());
        Assert.Equal(1, summary.GetProperty("agents").GetInt32());
        Assert.Equal(1, summary.GetProperty("online").GetInt32());
        Assert.Equal("3", summary.GetProperty("samples").GetString());
        Assert.Empty((await GetAsync("/api/v1/agents?status=offline")).GetProperty("agents").EnumerateArray());
    }

    [Fact]
    public async Task Configuration_is_stored_per_agent_and_only_for_known_agents()
    {
        Assert.Empty((await GetAsync("/api/v1/agents/edge-1/config")).GetProperty("config").EnumerateObject());

        using var put = await Operator.PutAsJsonAsync("/api/v1/agents/edge-1/config", new { intervalSeconds = 10, collectors = new[] { "cpu", "disk" } });
        using var unknown = await Operator.PutAsJsonAsync("/api/v1/agents/nobody/config", new { intervalSeconds = 10 });
        var stored = (await GetAsync("/api/v1/agents/edge-1/config")).GetProperty("config");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(10, stored.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal(["cpu", "disk"], stored.GetProperty("collectors").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task A_deleted_agent_is_gone_and_deleting_it_again_is_404()
    {
        using var deleted = await Operator.DeleteAsync("/api/v1/agents/edge-1");
        using var again = await Operator.DeleteAsync("/api/v1/agents/edge-1");
        using var details = await host.Http().GetAsync("/api/v1/agents/edge-1");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, details.StatusCode);
        Assert.Empty((await GetAsync("/api/v1/agents")).GetProperty("agents").EnumerateArray());
    }

    [Fact]
    public async Task Only_operators_change_configuration_and_a_bad_filter_is_400()
    {
        using var asViewer = await host.Http(TestInfrastructure.Token("ann", "viewer")).PutAsJsonAsync("/api/v1/agents/edge-1/config", new { a = 1 });
        using var badFilter = await host.Http().GetAsync("/api/v1/agents?status=sleepy");

        Assert.Equal(HttpStatusCode.Forbidden, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        Assert.Contains("status", await badFilter.Content.ReadAsStringAsync());
    }
}
