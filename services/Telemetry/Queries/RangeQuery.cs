using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Queries;

/// <summary>
/// A validated range query: what to read, over which window, in which buckets, aggregated how and by what, and from
/// which rollup tier (null: raw samples). A tier serves avg/min/max/sum/count when the step is a whole number of its
/// buckets; the window's start is then rounded down to the tier's bucket so every output bucket holds whole tier buckets.
/// </summary>
public sealed partial record RangeQuery(
    string Name, IReadOnlyList<(string Label, string Value)> Match, DateTimeOffset Start, DateTimeOffset End, TimeSpan Step,
    string Aggregation, IReadOnlyList<string> By, RollupTier? Tier)
{
    public const int MaxBuckets = 11_000;
    public static readonly string[] Aggregations = ["avg", "min", "max", "sum", "count", "p50", "p95", "p99", "rate", "increase"];
    public static readonly string[] Resolutions = ["auto", "raw"];
    static readonly string[] FromRollups = ["avg", "min", "max", "sum", "count"];

    /// <summary>What the response reports as its source: raw, 1m or 1h.</summary>
    public string Resolution => Tier?.Name ?? "raw";

    public static RangeQuery From(QueryRangeRequest request, DateTimeOffset now)
    {
        var step = TimeSpan.FromMilliseconds(request.StepMs == 0 ? 60_000 : request.StepMs);
        var end = request.EndMs == 0 ? now : FromMs(request.EndMs);
        var start = request.StartMs == 0 ? end - TimeSpan.FromHours(1) : FromMs(request.StartMs);
        var aggregation = string.IsNullOrEmpty(request.Aggregation) ? "avg" : request.Aggregation.ToLowerInvariant();
        var match = request.Match.Select(m => m.Split('=', 2)).ToList();
        var resolution = string.IsNullOrEmpty(request.Resolution) ? "auto" : request.Resolution.ToLowerInvariant();

        new RequestValidation()
            .Require(!string.IsNullOrWhiteSpace(request.Name), "name", "is required")
            .Require(request.StepMs >= 0 && (request.StepMs == 0 || request.StepMs >= 1000), "step_ms", "must be at least 1000 (one second)")
            .Require(request.StartMs >= 0 && request.EndMs >= 0, "start_ms", "start_ms and end_ms must not be negative")
            .Require(start < end, "start_ms", "must be before end_ms")
            .Require(start >= end || (end - start) / step <= MaxBuckets, "step_ms", $"too small for the window: at most {MaxBuckets} buckets")
            .Require(Aggregations.Contains(aggregation), "aggregation", $"must be one of {string.Join(", ", Aggregations)}")
            .Require(match.All(m => m.Length == 2 && LabelName().IsMatch(m[0])), "match", "each must be label=value with a valid label name")
            .Require(request.By.Count <= 10 && request.By.All(LabelName().IsMatch), "by", "at most 10 valid label names")
            .Require(Resolutions.Contains(resolution), "resolution", "must be auto (a rollup tier when the step allows) or raw")
            .ThrowIfInvalid();

        var tier = resolution == "auto" ? TierFor(step, aggregation) : null;
        if (tier is not null) start = tier.Floor(start);
        return new(request.Name, [.. match.Select(m => (m[0], m[1]))], start, end, step, aggregation, [.. request.By.Distinct()], tier);
    }

    static RollupTier? TierFor(TimeSpan step, string aggregation) =>
        !FromRollups.Contains(aggregation) ? null
        : step.Ticks % RollupTier.Hour.Resolution.Ticks == 0 ? RollupTier.Hour
        : step.Ticks % RollupTier.Minute.Resolution.Ticks == 0 ? RollupTier.Minute
        : null;

    /// <summary>Epoch milliseconds as a time, clamped to what DateTimeOffset can hold.</summary>
    public static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253402300799999));

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")]
    private static partial Regex LabelName();
}
