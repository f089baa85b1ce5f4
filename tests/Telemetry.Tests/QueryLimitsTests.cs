using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Telemetry.Alerts;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>
/// A query larger than the service will hold is refused as it is read, a rule whose query fails does not stop the
/// others, and every connection carries the pool and statement bounds.
/// </summary>
public sealed class QueryLimitsTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    readonly DateTimeOffset now = DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
        {
            ["Telemetry:Queries:MaxPoints"] = "4",
            ["Telemetry:Alerts:EvaluationInterval"] = "01:00:00",
        });
        var batch = new SampleBatch { AgentId = "limits", Sequence = 1 };
        for (var node = 0; node < 6; node++)
            batch.Samples.Add(new Sample { Name = "wide_metric", Value = node, TimestampMs = now.AddSeconds(-5).ToUnixTimeMilliseconds(), Labels = { ["node"] = $"n{node}" } });
        batch.Samples.Add(new Sample { Name = "narrow_metric", Value = 99, TimestampMs = now.AddSeconds(-5).ToUnixTimeMilliseconds(), Labels = { ["node"] = "n0" } });
        await TestAgent.PushAsync(host, batch);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_query_that_would_return_more_points_than_allowed_is_a_400_saying_how_to_narrow_it()
    {
        var window = $"startMs={now.AddMinutes(-1).ToUnixTimeMilliseconds()}&endMs={now.ToUnixTimeMilliseconds()}&stepMs=60000";

        using var wide = await host.Http().GetAsync($"/api/telemetry/query_range?name=wide_metric&aggregation=max&by=node&{window}");
        using var narrow = await host.Http().GetAsync($"/api/telemetry/query_range?name=wide_metric&aggregation=max&{window}");

        Assert.Equal(HttpStatusCode.BadRequest, wide.StatusCode);
        var body = await wide.Content.ReadAsStringAsync();
        Assert.Contains("step_ms", body);
        Assert.Contains("more than 4 points", body);
        Assert.Equal(HttpStatusCode.OK, narrow.StatusCode);
    }

    [Fact]
    public async Task A_rule_whose_query_fails_is_skipped_and_the_other_rules_still_fire()
    {
        var http = host.Http(TestInfrastructure.Token("olga", "operator"));
        foreach (var (name, metric) in new[] { ("TooWide", "wide_metric"), ("Narrow", "narrow_metric") })
        {
            using var created = await http.PostAsJsonAsync("/api/telemetry/alerts/rules", new
            {
                name, metric, aggregation = "max", by = new[] { "node" }, windowMs = 600_000, comparator = ">", threshold = -1, forMs = 0, severity = "warning",
            });
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        await host.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync(now, CancellationToken.None);

        using var json = JsonDocument.Parse(await host.Http().GetStringAsync("/api/monitoring/alerts"));
        var alerts = json.RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("labels").GetProperty("alertname").GetString()).ToList();
        Assert.Equal(["Narrow"], alerts);
    }

    [Fact]
    public async Task Every_connection_has_a_bounded_pool_and_a_statement_timeout()
    {
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var show = db.CreateCommand("SHOW statement_timeout");

        Assert.Equal("5min", await show.ExecuteScalarAsync());
        Assert.Equal(30, new NpgsqlConnectionStringBuilder(db.ConnectionString).MaxPoolSize);
    }
}
