using Grpc.Core;
using Platform.Telemetry.Ingestion;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Tests;

public sealed class SampleBatchValidatorTests
{
    static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    static SampleBatch Batch(params Sample[] samples)
    {
        var batch = new SampleBatch { AgentId = "node-0", Sequence = 7 };
        batch.Samples.AddRange(samples);
        return batch;
    }

    static Sample Sample(string name = "node_load1", double value = 1.5, DateTimeOffset? at = null) =>
        new() { Name = name, Value = value, TimestampMs = (at ?? Now).ToUnixTimeMilliseconds(), Labels = { ["node"] = "node-0" } };

    [Fact]
    public void A_valid_batch_becomes_stored_samples_with_their_series()
    {
        var samples = SampleBatchValidator.Validate(Batch(Sample(), Sample("node_load5", 2)), Now);

        Assert.Equal(["node_load1", "node_load5"], samples.Select(s => s.Series.Name));
        Assert.Equal(Now, samples[0].Time);
        Assert.Equal(new KeyValuePair<string, string>("node", "node-0"), Assert.Single(samples[0].Series.Labels));
    }

    [Theory]
    [InlineData(double.NaN, "samples[1].value")]
    [InlineData(double.PositiveInfinity, "samples[1].value")]
    public void Non_finite_values_are_refused_naming_the_sample(double value, string field)
    {
        var error = Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(Batch(Sample(), Sample(value: value)), Now));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9starts_with_digit")]
    [InlineData("has space")]
    public void Bad_metric_names_are_refused(string name) =>
        Assert.Contains("samples[0].name", Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(Batch(Sample(name)), Now)).Status.Detail);

    [Theory]
    [InlineData(-61)]
    [InlineData(11)]
    public void Timestamps_outside_the_window_are_refused(int minutes) =>
        Assert.Contains("timestamp_ms", Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(Batch(Sample(at: Now.AddMinutes(minutes))), Now)).Status.Detail);

    [Fact]
    public void Empty_oversize_and_anonymous_batches_are_refused()
    {
        var oversize = Batch([.. Enumerable.Range(0, SampleBatchValidator.MaxSamplesPerBatch + 1).Select(_ => Sample())]);
        var anonymous = Batch(Sample());
        anonymous.AgentId = "";
        anonymous.Sequence = 0;

        Assert.Contains("samples", Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(Batch(), Now)).Status.Detail);
        Assert.Contains("at most", Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(oversize, Now)).Status.Detail);
        var error = Assert.Throws<RpcException>(() => SampleBatchValidator.Validate(anonymous, Now)).Status.Detail;
        Assert.Contains("agent_id", error);
        Assert.Contains("sequence", error);
    }
}
