namespace Platform.Telemetry.Alerts;

/// <summary>Where an alert is: its state and when it entered the phases that matter.</summary>
public sealed record AlertPhase(string State, DateTimeOffset? ActiveSince, DateTimeOffset? FiredAt, DateTimeOffset? ResolvedAt)
{
    public static readonly AlertPhase Inactive = new("inactive", null, null, null);
}

/// <summary>
/// inactive → pending (the condition holds) → firing (it held for the rule's <c>for</c>) → resolved (it stopped
/// holding); pending falls back to inactive if the condition stops before firing; resolved starts over when it holds again.
/// </summary>
public static class AlertStateMachine
{
    public static AlertPhase Next(AlertPhase current, bool holds, DateTimeOffset now, TimeSpan holdFor) => (current.State, holds) switch
    {
        ("inactive" or "resolved", true) => holdFor <= TimeSpan.Zero ? new("firing", now, now, null) : new("pending", now, null, null),
        ("pending", true) when now - current.ActiveSince >= holdFor => current with { State = "firing", FiredAt = now },
        ("pending", false) => AlertPhase.Inactive,
        ("firing", false) => current with { State = "resolved", ResolvedAt = now },
        _ => current,
    };
}
