using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>Whether a silence covers an alert: it is in effect, and every one of its label=value pairs is on the alert.</summary>
public static class Silences
{
    public static bool IsActive(Silence silence, DateTimeOffset now) =>
        silence.StartsAtMs <= now.ToUnixTimeMilliseconds() && now.ToUnixTimeMilliseconds() < silence.EndsAtMs;

    public static bool Covers(Silence silence, IReadOnlyDictionary<string, string> labels, DateTimeOffset now) =>
        IsActive(silence, now) && silence.Match.All(m => m.Split('=', 2) is [var key, var value] && labels.TryGetValue(key, out var actual) && actual == value);
}
