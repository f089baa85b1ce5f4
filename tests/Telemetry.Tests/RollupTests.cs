using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Platform.Telemetry.Queries;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>
/// The rollup tiers over a real PostgreSQL: two hours of 10 s samples on two nodes, rolled up by the job with a clock the
/// test moves (the service's own job is off), then read back through range queries.
/// </summary>
public sealed class RollupTests : IAsyncLifetime
{
    const string Metric = "rollup_cpu";
    ServiceHost<Program> host = null!;
    NpgsqlDataSource db = null!;
    // Three whole hours ago, so the window lies in the accepted past of the partitions and the writer sees it as late.
    readonly DateTimeOffset t0 = RollupTier.Hour.Floor(DateTimeOffset.UtcNow) - TimeSpan.FromHours(3);
    FakeTimeProvider clock = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string> { ["Telemetry:Rollups:Enabled"] = "false" });
        db = NpgsqlDataSource.Create(host.ConnectionString);
        await new TimePartitions(db, Options.Create(new RetentionOptions()), new FakeTimeProvider(t0), NullLogger<TimePartitions>.Instance)
            .MaintainAsync(CancellationToken.None);

        var samples = new List<StoredSample>();
        for (var i = 0; i < 720; i++)
        {
            samples.Add(Sample("a", t0.AddSeconds(10 * i), i % 17));
            samples.Add(Sample("b", t0.AddSeconds(10 * i), 100 + i * 3 % 11));
        }
        await Writer.WriteUnsequencedAsync("backfill", samples, CancellationToken.None);
        clock = new FakeTimeProvider(t0 + TimeSpan.FromHours(2) + TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync()
    {
        await db.DisposeAsync();
        await host.DisposeAsync();
    }

    SampleWriter Writer => host.Services.GetRequiredService<SampleWriter>();

    static StoredSample Sample(string node, DateTimeOffset time, double value) =>
        new(SeriesKey.From(Metric, [new("node", node)]), time, value);

    async Task RollUpUntilCaughtUpAsync()
    {
        var job = new RollupJob(db, Options.Create(new RollupOptions()), clock, NullLogger<RollupJob>.Instance);
        for (var pass = 0; !await job.RollUpAsync(CancellationToken.None); pass++)
            Assert.True(pass < 100, "the rollup job did not catch up in 100 passes");
    }

    async Task<(long Count, double Sum, double Min, double Max)> RollupRowAsync(string table, string node, DateTimeOffset bucket)
    {
        await using var command = db.CreateCommand($"""
            SELECT r.count, r.sum, r.min, r.max FROM telemetry.{table} r JOIN telemetry.series s USING (series_id)
            WHERE s.name = $1 AND s.labels ->> 'node' = $2 AND r.bucket = $3
            """);
        command.Parameters.Add(new() { Value = Metric });
        command.Parameters.Add(new() { Value = node });
        command.Parameters.Add(new() { Value = bucket });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no {table} row for node {node} at {bucket:O}");
        return (reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3));
    }

    Task<IReadOnlyList<SeriesPoints>> QueryAsync(string aggregation, TimeSpan step, string resolution, DateTimeOffset? end = null)
    {
        var query = RangeQuery.From(new QueryRangeRequest
        {
            Name = Metric, Aggregation = aggregation, By = { "node" }, StepMs = (long)step.TotalMilliseconds, Resolution = resolution,
            StartMs = t0.ToUnixTimeMilliseconds(), EndMs = (end ?? t0 + TimeSpan.FromHours(2)).ToUnixTimeMilliseconds(),
        }, clock.GetUtcNow());
        return host.Services.GetRequiredService<RangeQueries>().RunAsync(query, CancellationToken.None);
    }

    [Fact]
    public async Task Minute_and_hour_buckets_hold_the_count_sum_min_and_max_of_their_samples()
    {
        await RollUpUntilCaughtUpAsync();

        var firstMinute = Enumerable.Range(0, 6).Select(i => (double)(i % 17)).ToList();
        Assert.Equal((6L, firstMinute.Sum(), firstMinute.Min(), firstMinute.Max()), await RollupRowAsync("rollup_1m", "a", t0));
        var secondHour = Enumerable.Range(360, 360).Select(i => 100.0 + i * 3 % 11).ToList();
        Assert.Equal((360L, secondHour.Sum(), secondHour.Min(), secondHour.Max()), await RollupRowAsync("rollup_1h", "b", t0.AddHours(1)));

        await using var dirty = db.CreateCommand("SELECT count(*) FROM telemetry.rollup_dirty");
        Assert.Equal(0L, await dirty.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData(5, "1m")]
    [InlineData(60, "1h")]
    public async Task Queries_served_by_a_tier_equal_the_same_queries_over_raw_samples(int stepMinutes, string tier)
    {
        await RollUpUntilCaughtUpAsync();

        foreach (var aggregation in new[] { "avg", "min", "max", "sum", "count" })
        {
            var step = TimeSpan.FromMinutes(stepMinutes);
            Assert.Equal(tier, RangeQuery.From(new QueryRangeRequest { Name = Metric, Aggregation = aggregation, StepMs = (long)step.TotalMilliseconds }, clock.GetUtcNow()).Resolution);
            var fromTier = await QueryAsync(aggregation, step, "auto");
            var fromRaw = await QueryAsync(aggregation, step, "raw");
            Assert.Equal(2, fromTier.Count);
            Assert.Equal(fromRaw.Select(s => s.Labels["node"]), fromTier.Select(s => s.Labels["node"]));
            for (var g = 0; g < fromRaw.Count; g++)
            {
                Assert.Equal(fromRaw[g].Points.Select(p => p.Time), fromTier[g].Points.Select(p => p.Time));
                Assert.Equal(fromRaw[g].Points.Select(p => p.Value), fromTier[g].Points.Select(p => p.Value), (x, y) => Math.Abs(x - y) < 1e-9);
            }
        }
    }

    [Fact]
    public async Task A_tier_answers_without_the_raw_samples_and_raw_samples_newer_than_the_tier_complete_the_answer()
    {
        await RollUpUntilCaughtUpAsync();
        var before = await QueryAsync("avg", TimeSpan.FromMinutes(5), "auto");
        await Writer.WriteUnsequencedAsync("recent", [Sample("a", t0 + TimeSpan.FromMinutes(122), 42)], CancellationToken.None);
        await using (var delete = db.CreateCommand("DELETE FROM telemetry.samples WHERE time < $1"))
        {
            delete.Parameters.Add(new() { Value = t0 + TimeSpan.FromHours(2) });
            await delete.ExecuteNonQueryAsync();
        }
        // The late write above was recorded for re-rolling: roll it so the deleted hours are not read raw.
        await RollUpUntilCaughtUpAsync();

        Assert.Empty(await QueryAsync("avg", TimeSpan.FromMinutes(5), "raw"));
        var after = await QueryAsync("avg", TimeSpan.FromMinutes(5), "auto", end: t0 + TimeSpan.FromMinutes(125));
        Assert.Equal(before[0].Points.Select(p => p.Value), after[0].Points.Take(24).Select(p => p.Value), (x, y) => Math.Abs(x - y) < 1e-9);
        // The minute watermark is 2 h 1 min: the sample at 2 h 2 min is read raw and lands in the 2 h 0 min bucket.
        Assert.Equal((t0 + TimeSpan.FromMinutes(120), 42.0), after[0].Points[^1]);
    }

    [Fact]
    public async Task A_late_sample_counts_at_once_and_is_rolled_into_both_tiers()
    {
        await RollUpUntilCaughtUpAsync();
        var hourBefore = await RollupRowAsync("rollup_1h", "a", t0);

        await Writer.WriteUnsequencedAsync("late", [Sample("a", t0.AddSeconds(15), 1000)], CancellationToken.None);

        // Before the job re-rolls, the query reads that hour raw: the sample already counts.
        var counts = await QueryAsync("count", TimeSpan.FromHours(1), "auto");
        Assert.Equal(361, counts.Single(s => s.Labels["node"] == "a").Points[0].Value);

        await RollUpUntilCaughtUpAsync();
        var minute = await RollupRowAsync("rollup_1m", "a", t0);
        Assert.Equal((7L, 1000.0), (minute.Count, minute.Max));
        Assert.Equal((hourBefore.Count + 1, hourBefore.Sum + 1000, 1000.0), (await RollupRowAsync("rollup_1h", "a", t0)) is var h ? (h.Count, h.Sum, h.Max) : default);
        Assert.Equal(361, (await QueryAsync("count", TimeSpan.FromHours(1), "auto")).Single(s => s.Labels["node"] == "a").Points[0].Value);
    }

    [Fact]
    public async Task The_response_names_the_tier_that_served_it()
    {
        await RollUpUntilCaughtUpAsync();
        string Url(long stepMs, string extra = "") =>
            $"/api/telemetry/query_range?name={Metric}&startMs={t0.ToUnixTimeMilliseconds()}&endMs={t0.AddHours(2).ToUnixTimeMilliseconds()}&stepMs={stepMs}{extra}";

        foreach (var (url, expected) in new[] { (Url(300_000), "1m"), (Url(3_600_000), "1h"), (Url(30_000), "raw"), (Url(300_000, "&aggregation=p95"), "raw"), (Url(300_000, "&resolution=raw"), "raw") })
        {
            using var json = JsonDocument.Parse(await host.Http().GetStringAsync(url));
            Assert.Equal(expected, json.RootElement.GetProperty("resolution").GetString());
        }
        using var bad = await host.Http().GetAsync(Url(300_000, "&resolution=5m"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("resolution", await bad.Content.ReadAsStringAsync());
    }
}
