using Platform.Telemetry.Scraping;

namespace Platform.Telemetry.Tests;

/// <summary>The text exposition format as node_exporter and the OpenTelemetry Prometheus exporter write it.</summary>
public sealed class PrometheusTextParserTests
{
    const string Exposition = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # Escaping in label values:
        msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
        metric_without_timestamp_and_labels 12.47
        something_weird{problem="division by zero"} +Inf -3982045
        # A histogram, which has a pretty complex representation in the text format:
        http_request_duration_seconds_bucket{le="0.05",} 24054
        http_request_duration_seconds_bucket{le="+Inf"} 144320
        http_request_duration_seconds_sum 53423
        rpc_duration_seconds{quantile="0.5"} NaN
        """;

    [Fact]
    public void Every_sample_line_is_read_with_labels_value_and_timestamp()
    {
        var samples = PrometheusTextParser.Parse(Exposition);

        Assert.Equal(9, samples.Count);
        var first = samples[0];
        Assert.Equal("http_requests_total", first.Name);
        Assert.Equal([new("method", "post"), new("code", "200")], first.Labels);
        Assert.Equal(1027, first.Value);
        Assert.Equal(1395066363000, first.TimestampMs);
        Assert.Null(samples.Single(s => s.Name == "metric_without_timestamp_and_labels").TimestampMs);
    }

    [Fact]
    public void Escapes_special_values_and_trailing_commas_are_understood()
    {
        var samples = PrometheusTextParser.Parse(Exposition);

        var escaped = samples.Single(s => s.Name == "msdos_file_access_time_seconds");
        Assert.Equal(@"C:\DIR\FILE.TXT", escaped.Labels[0].Value);
        Assert.Equal("Cannot find file:\n\"FILE.TXT\"", escaped.Labels[1].Value);
        Assert.Equal(double.PositiveInfinity, samples.Single(s => s.Name == "something_weird").Value);
        Assert.Equal(-3982045, samples.Single(s => s.Name == "something_weird").TimestampMs);
        Assert.Equal("0.05", samples.First(s => s.Name == "http_request_duration_seconds_bucket").Labels.Single().Value);
        Assert.True(double.IsNaN(samples.Single(s => s.Name == "rpc_duration_seconds").Value));
    }

    [Theory]
    [InlineData("up{job=\"a\" 1", "line 1")]
    [InlineData("ok 1\n9bad 1", "line 2")]
    [InlineData("up one", "bad value")]
    [InlineData("up 1 2 3", "expected a value")]
    public void A_malformed_line_fails_the_parse_naming_the_line(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text)).Message);
}
