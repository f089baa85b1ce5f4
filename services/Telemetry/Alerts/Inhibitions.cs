using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>Which alerts are inhibited: covered by a firing alert of a rule whose <c>inhibits</c> match them.</summary>
public static class Inhibitions
{
    public static bool IsInhibited(
        IReadOnlyDictionary<string, string> labels, IEnumerable<(AlertRule Rule, IReadOnlyDictionary<string, string> Labels)> firing) =>
        firing.Any(source => source.Rule.Inhibits.Count > 0
            && !ReferenceEquals(source.Labels, labels)
            && source.Rule.Inhibits.All(m => m.Split('=', 2) is [var key, var value] && labels.TryGetValue(key, out var actual) && actual == value)
            && source.Rule.InhibitEqual.All(key => source.Labels.TryGetValue(key, out var expected) && labels.TryGetValue(key, out var actual) && actual == expected));
}
