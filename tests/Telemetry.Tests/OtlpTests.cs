using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>OTLP/HTTP metrics from the real OpenTelemetry .NET SDK exporter, and hand-written OTLP/JSON.</summary>
public sealed class OtlpTests : IAsyncLifetime
{
    readonly int port = Platform.AppHost.Hosting.Ports.Free();
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartOnAsync(
        await TestInfrastructure.CreateDatabaseAsync("otlp"),
        kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));

    public async Task DisposeAsync() => await host.DisposeAsync();

    MeterProvider Sdk(string meter, MetricReaderTemporalityPreference temporality) => OpenTelemetry.Sdk.CreateMeterProviderBuilder()
        .ConfigureResource(resource => resource.AddService("shop", serviceInstanceId: "shop-1"))
        .AddMeter(meter)
        .AddOtlpExporter((exporter, reader) =>
        {
            exporter.Endpoint = new Uri($"http://127.0.0.1:{port}/v1/metrics");
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Headers = $"Authorization=Bearer {TestInfrastructure.Token("shop", "agent")}";
            reader.TemporalityPreference = temporality;
            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000; // exported on ForceFlush only
        })
        .Build();

    async Task<List<(Dictionary<string, string> Labels, double Last)>> SeriesAsync(string name)
    {
        using var json = JsonDocument.Parse(await host.Http().GetStringAsync($"/api/telemetry/metrics/{name}/samples"));
        return [.. json.RootElement.GetProperty("series").EnumerateArray().Select(s => (
            s.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            s.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble()))];
    }

    [Fact]
    public async Task Counters_histograms_and_gauges_from_the_SDK_are_stored_the_Prometheus_way()
    {
        using var meter = new Meter("widget.shop");
        using var provider = Sdk("widget.shop", MetricReaderTemporalityPreference.Cumulative);
        meter.CreateCounter<long>("widgets.sold").Add(5, new KeyValuePair<string, object?>("colour", "blue"));
        var latency = meter.CreateHistogram<double>("order.latency");
        latency.Record(0.2);
        latency.Record(3);
        meter.CreateObservableGauge("queue.depth", () => 7);

        Assert.True(provider.ForceFlush(10_000));

        var sold = Assert.Single(await SeriesAsync("widgets_sold_total"));
        Assert.Equal(5, sold.Last);
        Assert.Equal("blue", sold.Labels["colour"]);
        Assert.Equal("shop", sold.Labels["job"]);
        Assert.Equal("shop-1", sold.Labels["instance"]);
        Assert.Equal(7, Assert.Single(await SeriesAsync("queue_depth")).Last);
        Assert.Equal(2, Assert.Single(await SeriesAsync("order_latency_count")).Last);
        Assert.Equal(3.2, Assert.Single(await SeriesAsync("order_latency_sum")).Last, precision: 9);
        var buckets = (await SeriesAsync("order_latency_bucket")).ToDictionary(b => b.Labels["le"], b => b.Last);
        Assert.Equal(0, buckets["0"]);
        Assert.Equal(2, buckets["5"]);
        Assert.Equal(2, buckets["+Inf"]);
    }

    [Fact]
    public async Task Delta_sums_are_added_up_into_a_cumulative_counter()
    {
        using var meter = new Meter("delta.shop");
        using var provider = Sdk("delta.shop", MetricReaderTemporalityPreference.Delta);
        var refunds = meter.CreateCounter<long>("refunds");

        refunds.Add(5);
        Assert.True(provider.ForceFlush(10_000));
        refunds.Add(3);
        Assert.True(provider.ForceFlush(10_000));

        Assert.Equal(8, Assert.Single(await SeriesAsync("refunds_total")).Last);
    }

    [Fact]
    public async Task OTLP_JSON_is_answered_in_JSON_with_unsupported_points_counted_and_bad_samples_refused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var http = host.Http(TestInfrastructure.Token("json-sender", "agent"));
        var body = $$$"""
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"batch"}}]},
              "scopeMetrics":[{"metrics":[
                {"name":"jobs.waiting","gauge":{"dataPoints":[{"asInt":"12","timeUnixNano":"{{{now}}}"}]}},
                {"name":"latency.summary","summary":{"dataPoints":[{}, {}]}}]}]}]}
            """;
        var bad = body.Replace("\"asInt\":\"12\"", "\"asDouble\":\"NaN\"");

        using var accepted = await http.PostAsync("/v1/metrics", new StringContent(body, Encoding.UTF8, "application/json"));
        using var refused = await http.PostAsync("/v1/metrics", new StringContent(bad, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var partial = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("partialSuccess");
        Assert.Equal("2", partial.GetProperty("rejectedDataPoints").GetString());
        Assert.Equal(12, Assert.Single(await SeriesAsync("jobs_waiting")).Last);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("samples[0].value", await refused.Content.ReadAsStringAsync());
    }
}
