using Grpc.Core;
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
    public async Task A_batch_over_the_rate_is_refused_with_the_limit_and_a_retry_time()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PushAsync("fast", samples: 11, series: 1));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("10 samples/s", error.Status.Detail);
        Assert.Contains("retry in", error.Status.Detail);
        Assert.DoesNotContain("limited", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    [Fact]
    public async Task A_batch_that_would_exceed_the_series_limit_is_refused()
    {
        await PushAsync("wide", samples: 3, series: 3);

        var error = await Assert.ThrowsAsync<RpcException>(() => PushAsync("wide", samples: 4, series: 4));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("at most 3 series", error.Status.Detail);
    }
}
