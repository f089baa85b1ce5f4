using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Ingestion;

/// <summary>
/// Checks a whole batch before anything is written, so a rejected batch stores nothing; names follow the Prometheus
/// data model, values must be finite, and timestamps must lie in the accepted window.
/// </summary>
public static partial class SampleBatchValidator
{
    public const int MaxSamplesPerBatch = 10_000;
    public const int MaxLabelsPerSample = 32;
    public static TimeSpan MaxAge => SampleWindow.MaxAge;
    public static TimeSpan MaxFuture => SampleWindow.MaxFuture;

    public static IReadOnlyList<StoredSample> Validate(SampleBatch batch, DateTimeOffset now, SeriesInterner? series = null)
    {
        var validation = new RequestValidation()
            .Require(!string.IsNullOrWhiteSpace(batch.AgentId) && batch.AgentId.Length <= 128 && !batch.AgentId.Contains('\0'), "agent_id", "must be 1-128 characters, without NUL")
            .Require(batch.Sequence > 0 && batch.Sequence <= long.MaxValue, "sequence", "must be a positive 63-bit number")
            .Require(batch.Sequence <= LatestSequence(now), "sequence",
                $"must not lie more than {MaxFuture.TotalMinutes:F0} minutes ahead of Telemetry's clock in microseconds since the Unix epoch")
            .Require(batch.Epoch <= long.MaxValue, "epoch", "must be a 63-bit number")
            .Require(batch.Samples.Count > 0, "samples", "must not be empty")
            .Require(batch.Samples.Count <= MaxSamplesPerBatch, "samples", $"at most {MaxSamplesPerBatch} samples per batch");
        validation.ThrowIfInvalid();

        var samples = new List<StoredSample>(batch.Samples.Count);
        var earliest = (now - MaxAge).ToUnixTimeMilliseconds();
        var latest = (now + MaxFuture).ToUnixTimeMilliseconds();
        for (var i = 0; i < batch.Samples.Count; i++)
        {
            var sample = batch.Samples[i];
            var name = IsMetricName(sample.Name);
            var value = double.IsFinite(sample.Value);
            var time = sample.TimestampMs >= earliest && sample.TimestampMs <= latest;
            var labelCount = sample.Labels.Count <= MaxLabelsPerSample;
            var labels = sample.Labels.All(l => IsLabelName(l.Key) && l.Value.Length <= 1024 && !l.Value.Contains('\0'));
            if (name && value && time && labelCount && labels)
            {
                if (validation.IsValid)
                    samples.Add(new(
                        series?.Intern(sample.Name, sample.Labels) ?? SeriesKey.From(sample.Name, sample.Labels),
                        DateTimeOffset.FromUnixTimeMilliseconds(sample.TimestampMs), sample.Value));
                continue;
            }
            // Only a bad sample pays for naming its fields.
            var field = $"samples[{i}]";
            validation
                .Require(name, $"{field}.name", "must match [a-zA-Z_:][a-zA-Z0-9_:]*")
                .Require(value, $"{field}.value", "must be a finite number (no NaN or Inf)")
                .Require(time, $"{field}.timestamp_ms", $"must lie between {MaxAge.TotalMinutes:F0} minutes ago and {MaxFuture.TotalMinutes:F0} minutes ahead")
                .Require(labelCount, $"{field}.labels", $"at most {MaxLabelsPerSample} labels")
                .Require(labels, $"{field}.labels", "label names must match [a-zA-Z_][a-zA-Z0-9_]* and values be at most 1024 characters, without NUL");
        }
        validation.ThrowIfInvalid();
        return samples;
    }

    /// <summary>
    /// The highest sequence a batch may carry now: sequences count up from their sender's clock in microseconds, so one
    /// far ahead is forged or from a clock gone wrong, and accepting it would make every later batch a "duplicate".
    /// </summary>
    static ulong LatestSequence(DateTimeOffset now) => (ulong)(now + MaxFuture).ToUnixTimeMilliseconds() * 1000;

    // Agents repeat the same few names in every batch: each distinct valid name is checked by its pattern once.
    static readonly ConcurrentDictionary<string, bool> KnownMetricNames = new(), KnownLabelNames = new();
    const int KnownNamesLimit = 100_000;

    static bool IsMetricName(string name) => IsKnown(KnownMetricNames, name, static n => MetricName().IsMatch(n));

    static bool IsLabelName(string name) => IsKnown(KnownLabelNames, name, static n => LabelName().IsMatch(n));

    static bool IsKnown(ConcurrentDictionary<string, bool> known, string name, Func<string, bool> check)
    {
        if (known.ContainsKey(name)) return true;
        if (!check(name)) return false;
        if (known.Count < KnownNamesLimit) known.TryAdd(name, true);
        return true;
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")]
    private static partial Regex LabelName();
}
