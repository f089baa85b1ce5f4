using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Platform.Telemetry.Otlp;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Ingestion;

/// <summary>What an OTLP request turned into: the samples, and the data points it could not convert, with why.</summary>
public sealed record OtlpConversion(SampleBatch Batch, long Rejected, IReadOnlyList<string> Problems);

/// <summary>
/// Turns OTLP metrics into samples the way Prometheus' OpenTelemetry compatibility rules do: names and attribute keys
/// become [a-zA-Z0-9_:] (anything else is '_'), monotonic sums get <c>_total</c>, histograms become cumulative
/// <c>_bucket{le}</c>, <c>_sum</c> and <c>_count</c>, and the resource's <c>service.name</c> / <c>service.instance.id</c>
/// become <c>job</c> / <c>instance</c>. Delta sums and histograms are added up into running totals (see
/// <see cref="DeltaTotals"/>); exponential histograms and summaries are rejected and counted.
/// </summary>
public static partial class OtlpMetricsConverter
{
    public static OtlpConversion Convert(ExportMetricsServiceRequest request, DeltaTotals totals, DateTimeOffset now)
    {
        var batch = new SampleBatch { AgentId = "otlp", Sequence = 1 };
        long rejected = 0;
        var problems = new List<string>();
        foreach (var resource in request.ResourceMetrics)
        {
            var target = Target(resource.Resource);
            foreach (var metric in resource.ScopeMetrics.SelectMany(scope => scope.Metrics))
            {
                var name = MetricName(metric.Name);
                switch (metric.DataCase)
                {
                    case Metric.DataOneofCase.Gauge:
                        foreach (var point in metric.Gauge.DataPoints)
                            batch.Samples.Add(Sample(name, target, point.Attributes, Value(point), point.TimeUnixNano, now));
                        break;
                    case Metric.DataOneofCase.Sum:
                        var sumName = metric.Sum.IsMonotonic && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
                        var delta = metric.Sum.AggregationTemporality == AggregationTemporality.Delta;
                        foreach (var point in metric.Sum.DataPoints)
                            batch.Samples.Add(Accumulate(Sample(sumName, target, point.Attributes, Value(point), point.TimeUnixNano, now), delta, totals));
                        break;
                    case Metric.DataOneofCase.Histogram:
                        var deltaHistogram = metric.Histogram.AggregationTemporality == AggregationTemporality.Delta;
                        foreach (var point in metric.Histogram.DataPoints)
                            foreach (var sample in Histogram(name, target, point, now))
                                batch.Samples.Add(Accumulate(sample, deltaHistogram, totals));
                        break;
                    default:
                        var points = metric.DataCase switch
                        {
                            Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
                            Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
                            _ => 0,
                        };
                        rejected += points;
                        problems.Add($"{metric.Name}: {metric.DataCase} is not supported");
                        break;
                }
            }
        }
        return new(batch, rejected, problems);
    }

    static IEnumerable<Sample> Histogram(string name, IReadOnlyList<KeyValuePair<string, string>> target, HistogramDataPoint point, DateTimeOffset now)
    {
        ulong cumulative = 0;
        for (var i = 0; i < point.BucketCounts.Count; i++)
        {
            cumulative += point.BucketCounts[i];
            var le = i < point.ExplicitBounds.Count ? point.ExplicitBounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            var bucket = Sample(name + "_bucket", target, point.Attributes, cumulative, point.TimeUnixNano, now);
            bucket.Labels["le"] = le;
            yield return bucket;
        }
        yield return Sample(name + "_count", target, point.Attributes, point.Count, point.TimeUnixNano, now);
        if (point.HasSum) yield return Sample(name + "_sum", target, point.Attributes, point.Sum, point.TimeUnixNano, now);
    }

    static Sample Accumulate(Sample sample, bool delta, DeltaTotals totals)
    {
        if (delta) sample.Value = totals.Add(SeriesKey.From(sample.Name, sample.Labels).Identity, sample.Value);
        return sample;
    }

    static Sample Sample(string name, IReadOnlyList<KeyValuePair<string, string>> target, IEnumerable<Otlp.KeyValue> attributes, double value, ulong timeUnixNano, DateTimeOffset now)
    {
        var sample = new Sample
        {
            Name = name,
            Value = value,
            TimestampMs = timeUnixNano == 0 ? now.ToUnixTimeMilliseconds() : (long)(timeUnixNano / 1_000_000),
        };
        foreach (var attribute in attributes) sample.Labels[LabelName(attribute.Key)] = Text(attribute.Value);
        foreach (var (key, text) in target) sample.Labels[key] = text;
        return sample;
    }

    static double Value(NumberDataPoint point) => point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;

    static IReadOnlyList<KeyValuePair<string, string>> Target(Resource? resource)
    {
        var attributes = resource?.Attributes.ToDictionary(a => a.Key, a => Text(a.Value)) ?? [];
        var target = new List<KeyValuePair<string, string>>();
        if (attributes.TryGetValue("service.name", out var service))
            target.Add(new("job", attributes.TryGetValue("service.namespace", out var ns) ? $"{ns}/{service}" : service));
        if (attributes.TryGetValue("service.instance.id", out var instance))
            target.Add(new("instance", instance));
        return target;
    }

    static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        null or AnyValue.ValueOneofCase.None => "",
        _ => JsonFormatter.Default.Format(value),
    };

    static string MetricName(string name)
    {
        var sanitized = NotMetricCharacter().Replace(name, "_");
        return sanitized.Length == 0 || char.IsAsciiDigit(sanitized[0]) ? "_" + sanitized : sanitized;
    }

    static string LabelName(string key)
    {
        var sanitized = NotLabelCharacter().Replace(key, "_");
        return sanitized.Length == 0 || char.IsAsciiDigit(sanitized[0]) ? "key_" + sanitized : sanitized;
    }

    [GeneratedRegex("[^a-zA-Z0-9_:]")]
    private static partial Regex NotMetricCharacter();

    [GeneratedRegex("[^a-zA-Z0-9_]")]
    private static partial Regex NotLabelCharacter();
}

/// <summary>
/// Running totals that turn delta sums into the cumulative values rate() and increase() expect. They live in this
/// process: after a restart a total starts again from zero, which queries read as a counter reset; a sender of delta
/// temporality should therefore always reach the same replica.
/// </summary>
public sealed class DeltaTotals
{
    const int Capacity = 1_000_000;
    readonly ConcurrentDictionary<string, double> totals = new();

    public double Add(string series, double delta)
    {
        if (totals.Count >= Capacity && !totals.ContainsKey(series)) return delta;
        return totals.AddOrUpdate(series, delta, (_, total) => total + delta);
    }
}
