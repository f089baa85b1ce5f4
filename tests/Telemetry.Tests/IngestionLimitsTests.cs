using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Platform.Telemetry.V1;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Per-agent limits refuse a batch whole, saying which limit, and store nothing of it.</summary>
public sealed class IngestionLimitsTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
    {
        ["Telemetry:Limits:SamplesPerSecond"] = "10",
        ["Telemetry:Limits:BurstSeconds"] = "1",
        ["Telemetry:Limits:MaxSeriesPerAgent"] = "3",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    async Task PushAsync(string agent, int samples, int series)
    {
        var batch = new SampleBatch { AgentId = agent, Sequence = 1 };
        batch.Samples.AddRange(Enumerable.Range(0, samples).Select(i => new Sample
        {
            Name = "limited", Value = i, TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - i, Labels = { ["n"] = (i % series).ToString() },
        }));
        await TestAgent.PushAsync(host, batch);
    }

    [Fact]
    public async Task A_batch_larger_than_the_burst_is_refused_with_no_retry_time_and_stores_nothing()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PushAsync("fast", samples: 11, series: 1));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("at most 10 samples at once", error.Status.Detail);
        Assert.Null(error.GetRpcStatus()?.GetDetail<Google.Rpc.RetryInfo>());
        Assert.DoesNotContain("limited", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    [Fact]
    public void A_batch_over_the_rate_is_refused_with_when_it_will_fit()
    {
        var limits = Limits(new FakeTimeProvider());
        limits.Admit("fast", Samples(8, "a"));

        var error = Assert.Throws<RpcException>(() => limits.Admit("fast", Samples(4, "a")));

        Assert.Contains("retry in", error.Status.Detail);
        Assert.Equal(TimeSpan.FromMilliseconds(200), Assert.IsType<Google.Rpc.RetryInfo>(error.GetRpcStatus()?.GetDetail<Google.Rpc.RetryInfo>()).RetryDelay.ToTimeSpan());
    }

    [Fact]
    public void Series_the_agent_stopped_writing_leave_its_budget_after_the_idle_time()
    {
        var clock = new FakeTimeProvider();
        var limits = Limits(clock);
        limits.Admit("churn", Samples(3, "w1", "w2", "w3"));
        clock.Advance(TimeSpan.FromMinutes(30));
        limits.Admit("churn", Samples(1, "w3"));

        var full = Assert.Throws<RpcException>(() => limits.Admit("churn", Samples(1, "w4")));
        clock.Advance(TimeSpan.FromMinutes(31));
        limits.Admit("churn", Samples(2, "w4", "w5"));
        var stillFull = Assert.Throws<RpcException>(() => limits.Admit("churn", Samples(1, "w6")));

        Assert.Null(full.GetRpcStatus()?.GetDetail<Google.Rpc.RetryInfo>());
        Assert.Contains("at most 3 series within 60 minutes", stillFull.Status.Detail);
    }

    static Platform.Telemetry.Ingestion.IngestionLimits Limits(FakeTimeProvider clock) => new(Microsoft.Extensions.Options.Options.Create(
        new Platform.Telemetry.Ingestion.IngestionLimitOptions { SamplesPerSecond = 10, BurstSeconds = 1, MaxSeriesPerAgent = 3, SeriesIdleAfter = TimeSpan.FromHours(1) }), clock);

    static List<Platform.Telemetry.Storage.StoredSample> Samples(int count, params string[] series) =>
        [.. Enumerable.Range(0, count).Select(i => new Platform.Telemetry.Storage.StoredSample(
            Platform.Telemetry.Storage.SeriesKey.From("churned", new Dictionary<string, string> { ["w"] = series[i % series.Length] }), DateTimeOffset.UnixEpoch, i))];

    [Fact]
    public async Task A_batch_that_would_exceed_the_series_limit_is_refused()
    {
        await PushAsync("wide", samples: 3, series: 3);

        var error = await Assert.ThrowsAsync<RpcException>(() => PushAsync("wide", samples: 4, series: 4));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("at most 3 series", error.Status.Detail);
    }
}
