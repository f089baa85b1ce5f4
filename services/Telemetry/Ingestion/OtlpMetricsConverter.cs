using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Platform.Telemetry.Otlp;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Ingestion;

/// <summary>
/// What an OTLP request turned into: the samples, the data points it could not convert with why, and which samples
/// are deltas to be added to their series' running totals once the request is accepted.
/// </summary>
public sealed record OtlpConversion(SampleBatch Batch, long Rejected, IReadOnlyList<string> Problems, IReadOnlyList<int> Deltas)
{
    /// <summary>
    /// Turns the accepted samples' deltas into running totals — only once validation and the limits have let the
    /// request through — and returns how to take them back out if storing the samples then fails (the exporter retries).
    /// </summary>
    public (IReadOnlyList<StoredSample> Samples, Action Undo) Accumulate(IReadOnlyList<StoredSample> samples, DeltaTotals totals)
    {
        if (Deltas.Count == 0) return (samples, () => { });
        var accumulated = samples.ToArray();
        foreach (var i in Deltas)
            accumulated[i] = accumulated[i] with { Value = totals.Add(accumulated[i].Series.Identity, samples[i].Value) };
        return (accumulated, () =>
        {
            foreach (var i in Deltas) totals.Add(samples[i].Series.Identity, -samples[i].Value);
        });
    }
}

/// <summary>An OTLP request that would expand past the limits, refused before it is expanded.</summary>
public sealed class OtlpTooLargeException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Turns OTLP metrics into samples the way Prometheus' OpenTelemetry compatibility rules do: names and attribute keys
/// become [a-zA-Z0-9_:] (anything else is '_'), monotonic sums get <c>_total</c>, histograms become cumulative
/// <c>_bucket{le}</c>, <c>_sum</c> and <c>_count</c>, and the resource's <c>service.name</c> / <c>service.instance.id</c>
/// become <c>job</c> / <c>instance</c>. Delta sums and histograms are added up into running totals (see
/// <see cref="DeltaTotals"/>); exponential histograms and summaries are rejected and counted. What a data point will
/// expand to is counted before it is expanded: a request past 10,000 samples (a histogram with a million buckets, say)
/// or a point with more than 32 attributes is refused without being built.
/// </summary>
public static partial class OtlpMetricsConverter
{
    public static OtlpConversion Convert(ExportMetricsServiceRequest request, DateTimeOffset now)
    {
        var batch = new SampleBatch { AgentId = "otlp", Sequence = 1 };
        long rejected = 0;
        var problems = new List<string>();
        var deltas = new List<int>();
        void Add(Sample sample, bool delta)
        {
            if (delta) deltas.Add(batch.Samples.Count);
            batch.Samples.Add(sample);
        }
        void Expect(string metric, long samples, int attributes)
        {
            if (attributes > SampleBatchValidator.MaxLabelsPerSample)
                throw new OtlpTooLargeException(StatusCodes.Status400BadRequest,
                    $"{metric}: a data point has {attributes} attributes with the resource's; at most {SampleBatchValidator.MaxLabelsPerSample}");
            if (batch.Samples.Count + samples > SampleBatchValidator.MaxSamplesPerBatch)
                throw new OtlpTooLargeException(StatusCodes.Status413PayloadTooLarge,
                    $"{metric}: the request expands to more than {SampleBatchValidator.MaxSamplesPerBatch} samples (each histogram bucket is one); export in smaller batches");
        }
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
                        {
                            Expect(metric.Name, 1, point.Attributes.Count + target.Count);
                            Add(Sample(name, target, point.Attributes, Value(point), point.TimeUnixNano, now), delta: false);
                        }
                        break;
                    case Metric.DataOneofCase.Sum:
                        var sumName = metric.Sum.IsMonotonic && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
                        var delta = metric.Sum.AggregationTemporality == AggregationTemporality.Delta;
                        foreach (var point in metric.Sum.DataPoints)
                        {
                            Expect(metric.Name, 1, point.Attributes.Count + target.Count);
                            Add(Sample(sumName, target, point.Attributes, Value(point), point.TimeUnixNano, now), delta);
                        }
                        break;
                    case Metric.DataOneofCase.Histogram:
                        var deltaHistogram = metric.Histogram.AggregationTemporality == AggregationTemporality.Delta;
                        foreach (var point in metric.Histogram.DataPoints)
                        {
                            Expect(metric.Name, point.BucketCounts.Count + 2L, point.Attributes.Count + target.Count + 1);
                            foreach (var sample in Histogram(name, target, point, now))
                                Add(sample, deltaHistogram);
                        }
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
        return new(batch, rejected, problems, deltas);
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
