using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Npgsql;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The agents' stream and the queries, over a real PostgreSQL and Garnet.</summary>
public sealed class MetricIngestionTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    static SampleBatch Batch(string agent, ulong sequence, params double[] values) => RunBatch(agent, epoch: 0, sequence, values);

    // Every sample made here has its own millisecond, later than the one before: two batches built within the same
    // millisecond must not tie, or the order a query returns them in is not defined.
    static long lastTimestampMs = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();

    static SampleBatch RunBatch(string agent, ulong epoch, ulong sequence, params double[] values)
    {
        var first = Interlocked.Add(ref lastTimestampMs, values.Length) - values.Length + 1;
        var batch = new SampleBatch { AgentId = agent, Sequence = sequence, Epoch = epoch };
        batch.Samples.AddRange(values.Select((v, i) => new Sample
        {
            Name = "node_load1", Value = v, TimestampMs = first + i, Labels = { ["node"] = agent },
        }));
        return batch;
    }

    Task<List<BatchAck>> PushAsync(string agent, params SampleBatch[] batches) => TestAgent.PushAsAsync(host, agent, batches);

    async Task<long> CountSamplesAsync(string node)
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT count(*) FROM telemetry.samples p JOIN telemetry.series s USING (series_id) WHERE s.labels ->> 'node' = $1", connection)
            { Parameters = { new() { Value = node } } };
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Each_batch_is_acknowledged_after_commit_and_its_samples_are_queryable_over_REST()
    {
        var acks = await PushAsync("node-q", Batch("node-q", 1, 0.5, 0.75), Batch("node-q", 2, 1.25));

        Assert.Equal([1UL, 2UL], acks.Select(a => a.Sequence));
        Assert.Equal([2, 1], acks.Select(a => a.Accepted));

        using var json = JsonDocument.Parse(await host.Http().GetStringAsync("/api/telemetry/metrics/node_load1/samples?node=node-q"));
        var series = Assert.Single(json.RootElement.GetProperty("series").EnumerateArray());
        Assert.Equal([0.5, 0.75, 1.25], series.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()));
        Assert.Contains("node_load1", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    [Fact]
    public async Task A_resent_batch_is_acknowledged_as_duplicate_and_stored_once()
    {
        await PushAsync("node-r", Batch("node-r", 10, 1, 2, 3));

        var acks = await PushAsync("node-r", Batch("node-r", 10, 1, 2, 3), Batch("node-r", 11, 4));

        Assert.True(acks[0].Duplicate);
        Assert.Equal(0, acks[0].Accepted);
        Assert.False(acks[1].Duplicate);
        Assert.Equal(4, await CountSamplesAsync("node-r"));
    }

    [Fact]
    public async Task A_new_run_whose_clock_stepped_back_is_not_taken_for_a_replay_while_the_old_runs_replays_still_are()
    {
        var lastRun = RunBatch("node-e", epoch: 41, 2_000_000, 1);
        await PushAsync("node-e", lastRun);

        // The agent restarts with its clock an hour behind: a new epoch, and sequences below the last run's.
        var acks = await PushAsync("node-e", lastRun, RunBatch("node-e", epoch: 42, 1_000_000, 2), RunBatch("node-e", epoch: 42, 1_000_001, 3));

        Assert.Equal([true, false, false], acks.Select(a => a.Duplicate));
        Assert.Equal(3, await CountSamplesAsync("node-e"));
    }

    [Fact]
    public async Task A_forged_far_future_sequence_is_refused_and_the_agents_next_batch_is_still_stored()
    {
        var forged = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-f", RunBatch("node-f", epoch: 7, long.MaxValue, 1)));
        var aheadByAnHour = (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds() * 1000;
        var ahead = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-f", RunBatch("node-f", epoch: 7, aheadByAnHour, 1)));

        var acks = await PushAsync("node-f", RunBatch("node-f", epoch: 7, (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, 2));

        Assert.All([forged, ahead], e => Assert.Equal(StatusCode.InvalidArgument, e.StatusCode));
        Assert.All([forged, ahead], e => Assert.Contains("sequence", e.Status.Detail));
        Assert.False(Assert.Single(acks).Duplicate);
        Assert.Equal(1, await CountSamplesAsync("node-f"));
    }

    [Fact]
    public async Task Concurrent_deliveries_of_one_batch_store_it_once()
    {
        var deliveries = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PushAsync("node-c", Batch("node-c", 5, 1, 2))));

        Assert.Single(deliveries, acks => !acks[0].Duplicate);
        Assert.Equal(2, await CountSamplesAsync("node-c"));
    }

    [Fact]
    public async Task An_invalid_batch_is_refused_with_its_field_and_stores_nothing()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-i", Batch("node-i", 1, 1, double.NaN)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("samples[1].value", error.Status.Detail);
        Assert.Equal(0, await CountSamplesAsync("node-i"));
    }

    [Fact]
    public async Task A_rejected_nodes_agent_is_refused_at_once_and_by_every_route_it_could_push_through()
    {
        var agent = $"rejected-{Guid.NewGuid():N}"[..20];
        await PushAsync(agent, Batch(agent, 1, 1));
        await host.Services.GetRequiredService<Platform.ServiceDefaults.Auth.AgentRevocations>().RevokeAsync(agent);

        var pushed = await Assert.ThrowsAsync<RpcException>(() => PushAsync(agent, Batch(agent, 2, 2)));
        using var written = await host.Http(TestInfrastructure.Token(agent, "agent")).PostAsync("/api/v1/write", new ByteArrayContent([]));

        Assert.Equal(StatusCode.PermissionDenied, pushed.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, written.StatusCode);
        Assert.Contains("rejected", await written.Content.ReadAsStringAsync());
        Assert.Equal(1, await CountSamplesAsync(agent));
    }

    [Fact]
    public async Task An_agent_token_pushes_only_for_its_own_agent_and_a_missing_token_is_refused()
    {
        var foreign = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-x", Batch("node-y", 1, 1)));
        var anonymous = new MetricIngestion.MetricIngestionClient(host.AnonymousChannel());
        using var call = anonymous.PushSamples();
        var unauthenticated = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.PermissionDenied, foreign.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);
        Assert.Equal(0, await CountSamplesAsync("node-y"));
    }

    [Fact]
    public async Task An_agent_reports_workload_usage_and_relay_bytes_only_for_its_own_node_since_nodes_are_paid_by_them()
    {
        SampleBatch Usage(string node, ulong sequence, string name = "workload_cpu_seconds_total") => new()
        {
            AgentId = "node-w", Sequence = sequence,
            Samples = { new Sample { Name = name, Value = 1e9, TimestampMs = Interlocked.Increment(ref lastTimestampMs), Labels = { ["node"] = node, ["workload_id"] = "w" } } },
        };
        var forged = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-w", Usage("node-rich", 1)));
        Assert.Equal(StatusCode.PermissionDenied, forged.StatusCode);
        Assert.Contains("node-rich", forged.Status.Detail);
        var relayed = await Assert.ThrowsAsync<RpcException>(() => PushAsync("node-w", Usage("node-rich", 1, "relay_bytes_relayed_total")));
        Assert.Equal(StatusCode.PermissionDenied, relayed.StatusCode);
        using var remote = await host.Http(TestInfrastructure.Token("node-w", "agent")).PostAsync("/v1/metrics", JsonContent.Create(new
        {
            resourceMetrics = new[] { new { scopeMetrics = new[] { new { metrics = new[] { new { name = "workload_cpu_seconds_total", gauge = new { dataPoints = new[]
            {
                new { asDouble = 1e9, timeUnixNano = $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000}", attributes = new[] { new { key = "node", value = new { stringValue = "node-rich" } } } },
            } } } } } } } },
        }));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, remote.StatusCode);
        Assert.Equal(0, await CountSamplesAsync("node-rich"));

        Assert.Single(await PushAsync("node-w", Usage("node-w", 2)));   // its own node's: stored
        Assert.Equal(1, await CountSamplesAsync("node-w"));
    }

    [Fact]
    public async Task A_bad_query_is_a_400_that_names_the_field()
    {
        using var response = await host.Http().GetAsync("/api/telemetry/metrics/node_load1/samples?limit=999999");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("limit", await response.Content.ReadAsStringAsync());
    }
}
