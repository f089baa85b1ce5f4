using Platform.Telemetry.Alerts;

namespace Platform.Telemetry.Tests;

public sealed class AlertStateMachineTests
{
    static readonly DateTimeOffset T = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan For = TimeSpan.FromMinutes(1);

    [Fact]
    public void A_condition_must_hold_for_the_whole_for_before_the_alert_fires()
    {
        var pending = AlertStateMachine.Next(AlertPhase.Inactive, holds: true, T, For);
        var still = AlertStateMachine.Next(pending, holds: true, T.AddSeconds(59), For);
        var firing = AlertStateMachine.Next(still, holds: true, T.AddSeconds(60), For);

        Assert.Equal(("pending", T), (pending.State, pending.ActiveSince!.Value));
        Assert.Equal("pending", still.State);
        Assert.Equal(("firing", T.AddSeconds(60)), (firing.State, firing.FiredAt!.Value));
    }

    [Fact]
    public void Pending_falls_back_to_inactive_and_firing_resolves_when_the_condition_stops()
    {
        var pending = AlertStateMachine.Next(AlertPhase.Inactive, true, T, For);
        var firing = AlertStateMachine.Next(AlertPhase.Inactive, true, T, TimeSpan.Zero);

        Assert.Equal(AlertPhase.Inactive, AlertStateMachine.Next(pending, false, T.AddSeconds(10), For));
        var resolved = AlertStateMachine.Next(firing, false, T.AddSeconds(10), For);
        Assert.Equal(("resolved", T.AddSeconds(10)), (resolved.State, resolved.ResolvedAt!.Value));
        Assert.Equal("pending", AlertStateMachine.Next(resolved, true, T.AddSeconds(20), For).State);
    }
}
