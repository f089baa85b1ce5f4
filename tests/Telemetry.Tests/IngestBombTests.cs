using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Platform.Telemetry.Otlp;
using Platform.Telemetry.PrometheusRemote;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>
/// Small requests that would expand to billions of labelled points: refused before they are expanded, within bounded
/// memory, and Telemetry stays healthy. (Memory is what this process allocated while the request ran; the tests of
/// other classes running meanwhile allocate a few MiB, the bombs unrefused would allocate tens of GiB.)
/// </summary>
public sealed class IngestBombTests : IAsyncLifetime
{
    const long BoundedBytes = 400L << 20;
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    static ByteArrayContent Snappy(WriteRequest write)
    {
        var body = new ByteArrayContent(Snappier.Snappy.CompressToArray(write.ToByteArray()));
        body.Headers.ContentEncoding.Add("snappy");
        return body;
    }

    static WriteRequest OneSeries(int labels, int samples)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var series = new TimeSeries { Labels = { new Label { Name = "__name__", Value = "bomb" } } };
        for (var i = 0; i < labels; i++) series.Labels.Add(new Label { Name = $"l{i}", Value = "v" });
        for (var i = 0; i < samples; i++) series.Samples.Add(new PrometheusRemote.Sample { Value = 1, Timestamp = now });
        return new WriteRequest { Timeseries = { series } };
    }

    async Task<(HttpResponseMessage Response, long Allocated)> MeasureAsync(Func<Task<HttpResponseMessage>> send)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await send();
        return (response, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    async Task AssertHealthyAndEmptyAsync()
    {
        using var health = await host.AnonymousHttp().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.DoesNotContain("\"bomb", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    [Fact]
    public async Task Remote_write_of_one_series_with_a_thousand_labels_and_a_million_samples_is_refused_in_bounded_memory()
    {
        var http = host.Http(TestInfrastructure.Token("prometheus-bomb", "agent"));
        var labelled = Snappy(OneSeries(labels: 1000, samples: 1_000_000));
        var long_ = Snappy(OneSeries(labels: 2, samples: 1_000_000));

        var (labelBomb, labelBytes) = await MeasureAsync(() => http.PostAsync("/api/v1/write", labelled));
        var (sampleBomb, sampleBytes) = await MeasureAsync(() => http.PostAsync("/api/v1/write", long_));

        Assert.Equal(HttpStatusCode.BadRequest, labelBomb.StatusCode);
        Assert.Contains("timeseries[0].labels", await labelBomb.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, sampleBomb.StatusCode);
        Assert.Contains("10000 samples", await sampleBomb.Content.ReadAsStringAsync());
        Assert.InRange(labelBytes, 0, BoundedBytes);
        Assert.InRange(sampleBytes, 0, BoundedBytes);
        await AssertHealthyAndEmptyAsync();
    }

    [Fact]
    public async Task An_OTLP_histogram_with_two_million_buckets_or_a_point_with_too_many_attributes_is_refused_in_bounded_memory()
    {
        var http = host.Http(TestInfrastructure.Token("otlp-bomb", "agent"));
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var histogram = new HistogramDataPoint { TimeUnixNano = now, Count = 1 };
        histogram.BucketCounts.AddRange(new ulong[2_000_000]);
        for (var i = 0; i < 30; i++) histogram.Attributes.Add(new KeyValue { Key = $"a{i}", Value = new AnyValue { StringValue = new string('x', 100) } });
        var gauge = new NumberDataPoint { TimeUnixNano = now, AsDouble = 1 };
        for (var i = 0; i < 40; i++) gauge.Attributes.Add(new KeyValue { Key = $"a{i}", Value = new AnyValue { StringValue = "x" } });

        var (buckets, bucketBytes) = await MeasureAsync(() => http.PostAsync("/v1/metrics", Gzipped(Export(new Metric
            { Name = "bomb.latency", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative, DataPoints = { histogram } } }))));
        var (attributes, attributeBytes) = await MeasureAsync(() => http.PostAsync("/v1/metrics", Gzipped(Export(new Metric
            { Name = "bomb.gauge", Gauge = new Gauge { DataPoints = { gauge } } }))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, buckets.StatusCode);
        Assert.Contains("bomb.latency", Otlp(await buckets.Content.ReadAsByteArrayAsync()));
        Assert.Equal(HttpStatusCode.BadRequest, attributes.StatusCode);
        Assert.Contains("40 attributes", Otlp(await attributes.Content.ReadAsByteArrayAsync()));
        Assert.InRange(bucketBytes, 0, BoundedBytes);
        Assert.InRange(attributeBytes, 0, BoundedBytes);
        await AssertHealthyAndEmptyAsync();
    }

    [Fact]
    public async Task A_refused_OTLP_request_adds_nothing_to_a_delta_counters_running_total()
    {
        var http = host.Http(TestInfrastructure.Token("delta-bomb", "agent"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        string Delta(int value, string extra = "") => $$$"""
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"refused.deltas","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{"asInt":"{{{value}}}","timeUnixNano":"{{{now}}}"}]}}{{{extra}}}]}]}]}
            """;
        // The second metric's NaN refuses the whole request after its delta was converted.
        var refusedBody = Delta(100, """,{"name":"broken","gauge":{"dataPoints":[{"asDouble":"NaN"}]}}""");

        using var refused = await http.PostAsync("/v1/metrics", new StringContent(refusedBody, Encoding.UTF8, "application/json"));
        using var accepted = await http.PostAsync("/v1/metrics", new StringContent(Delta(5), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        using var json = JsonDocument.Parse(await host.Http().GetStringAsync("/api/telemetry/metrics/refused_deltas_total/samples"));
        var points = Assert.Single(json.RootElement.GetProperty("series").EnumerateArray()).GetProperty("points");
        Assert.Equal(5, points.EnumerateArray().Last().GetProperty("value").GetDouble());
    }

    static ExportMetricsServiceRequest Export(Metric metric) =>
        new() { ResourceMetrics = { new ResourceMetrics { ScopeMetrics = { new ScopeMetrics { Metrics = { metric } } } } } };

    static ByteArrayContent Gzipped(IMessage message)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) message.WriteTo(gzip);
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new("application/x-protobuf");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    static string Otlp(byte[] status) => Google.Rpc.Status.Parser.ParseFrom(status).Message;
}
