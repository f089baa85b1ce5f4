using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Queries;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>Validation and defaults of alert rules, and the query each evaluation runs.</summary>
public static class AlertRules
{
    public static readonly string[] Comparators = [">", ">=", "<", "<=", "==", "!="];
    public static readonly string[] Severities = ["info", "warning", "critical"];
    static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>Fills defaults and throws InvalidArgument naming every bad field.</summary>
    public static AlertRule Normalize(AlertRule rule)
    {
        var normalized = rule.Clone();
        if (normalized.WindowMs == 0) normalized.WindowMs = 300_000;
        if (normalized.Aggregation == "") normalized.Aggregation = "avg";
        if (normalized.Severity == "") normalized.Severity = "warning";

        new RequestValidation()
            .Require(normalized.Name.Length is > 0 and <= 128, "name", "must be 1-128 characters")
            .Require(normalized.Metric.Length > 0, "metric", "is required")
            .Require(normalized.WindowMs >= 1000 && normalized.WindowMs <= MaxDuration.TotalMilliseconds, "window_ms", "must be between 1 s and 7 days")
            .Require(normalized.ForMs >= 0 && normalized.ForMs <= MaxDuration.TotalMilliseconds, "for_ms", "must be between 0 and 7 days")
            .Require(Comparators.Contains(normalized.Comparator), "comparator", $"must be one of {string.Join(" ", Comparators)}")
            .Require(double.IsFinite(normalized.Threshold), "threshold", "must be a finite number")
            .Require(Severities.Contains(normalized.Severity), "severity", "must be info, warning or critical")
            .Require(normalized.Summary.Length <= 1024, "summary", "at most 1024 characters")
            .Require(normalized.RunbookUrl == "" || Uri.TryCreate(normalized.RunbookUrl, UriKind.Absolute, out _), "runbook_url", "must be an absolute URL")
            .Require(normalized.Inhibits.All(m => m.Split('=', 2) is [{ Length: > 0 }, _]), "inhibits", "each must be label=value")
            .Require(normalized.InhibitEqual.All(l => l.Length is > 0 and <= 100), "inhibit_equal", "label names of 1-100 characters")
            .Require(normalized.RepeatIntervalMs == 0 || (normalized.RepeatIntervalMs >= 60_000 && normalized.RepeatIntervalMs <= MaxDuration.TotalMilliseconds),
                "repeat_interval_ms", "must be 0 (the service default) or between 1 minute and 7 days")
            .ThrowIfInvalid();
        // The metric, filters, grouping and aggregation are validated exactly as a range query's.
        Query(normalized, DateTimeOffset.UtcNow);
        return normalized;
    }

    /// <summary>One bucket covering exactly the rule's window, ending now: raw samples, never a rollup tier's whole buckets.</summary>
    public static RangeQuery Query(AlertRule rule, DateTimeOffset now)
    {
        var request = new QueryRangeRequest
        {
            Name = rule.Metric,
            Aggregation = rule.Aggregation,
            StepMs = rule.WindowMs,
            StartMs = (now - TimeSpan.FromMilliseconds(rule.WindowMs)).ToUnixTimeMilliseconds(),
            EndMs = now.ToUnixTimeMilliseconds(),
            Resolution = "raw",
        };
        request.Match.AddRange(rule.Match);
        request.By.AddRange(rule.By);
        return RangeQuery.From(request, now);
    }

    public static bool Holds(AlertRule rule, double value) => rule.Comparator switch
    {
        ">" => value > rule.Threshold,
        ">=" => value >= rule.Threshold,
        "<" => value < rule.Threshold,
        "<=" => value <= rule.Threshold,
        "==" => value == rule.Threshold,
        "!=" => value != rule.Threshold,
        _ => false,
    };
}
