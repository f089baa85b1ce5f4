using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.Telemetry.Queries;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>How often alert rules are evaluated, and how often a firing alert is notified again by default.</summary>
public sealed class AlertingOptions
{
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan RepeatInterval { get; set; } = TimeSpan.FromHours(4);
}

/// <summary>
/// Evaluates every rule on an interval: the rule's aggregation over its window, per group of its <c>by</c> labels,
/// compared with its threshold, moves each group's alert through <see cref="AlertStateMachine"/>. A group with no data
/// counts as not holding. Notifications go to <c>platform.events.alerts</c>, never while a silence or a firing alert of
/// an inhibiting rule covers the alert: <c>alert.firing</c> when it starts firing, again every repeat interval while it
/// fires unacknowledged (Alertmanager's repeat_interval; an alert that was quiet when it fired is notified once it no
/// longer is), and <c>alert.resolved</c> when an alert whose firing was notified resolves. One replica evaluates at a time.
/// </summary>
public sealed class AlertEvaluator(
    NpgsqlDataSource db, AlertStore store, RangeQueries ranges, EventPublisher events, IOptions<AlertingOptions> options,
    TimeProvider clock, ILogger<AlertEvaluator> logger) : SingleReplicaJob(db, LockKey, clock, logger)
{
    const long LockKey = 0x616C6572747321; // "alerts!"

    // The first evaluation comes one interval after start: a rule needs that much data anyway.
    protected override TimeSpan Interval => options.Value.EvaluationInterval;
    protected override string Description => "Alert evaluation";
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => EvaluateAsync(Clock.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Evaluates every rule and stores the result, then notifies: notifications wait until all rules are evaluated so
    /// that an inhibiting alert that fires in the same round suppresses the alerts it covers.
    /// </summary>
    public async Task EvaluateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var silences = (await store.SilencesAsync(cancellationToken)).Where(s => Silences.IsActive(s, now)).ToList();
        var candidates = new List<(AlertRule Rule, StoredAlert Alert, bool Changed)>();
        var firing = new List<(AlertRule Rule, IReadOnlyDictionary<string, string> Labels)>();
        foreach (var rule in await store.RulesAsync(cancellationToken))
        {
            // One rule whose query fails or runs too long is logged and skipped this round; the others are evaluated
            // and notified as usual, and its alerts keep the state they had.
            try
            {
                await EvaluateRuleAsync(rule, now, candidates, firing, cancellationToken);
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or Platform.ServiceDefaults.Grpc.DomainException or Npgsql.PostgresException
                && !cancellationToken.IsCancellationRequested)
            {
                Logger.LogError("Alert rule {AlertName} ({RuleId}) could not be evaluated: {Reason}", rule.Name, rule.RuleId, ex.Message);
            }
        }

        var notified = new List<Guid>();
        foreach (var (rule, alert, changed) in candidates)
        {
            var silenced = silences.Any(s => Silences.Covers(s, alert.Labels, now));
            var inhibited = Inhibitions.IsInhibited(alert.Labels, firing);
            if (changed)
                Logger.LogInformation("Alert {AlertName} {Labels} is {State} at {Value}{Quiet}", rule.Name, alert.GroupKey, alert.Phase.State, alert.Value,
                    silenced ? " (silenced)" : inhibited ? " (inhibited)" : "");
            if (silenced || inhibited || !IsDue(rule, alert, now)) continue;

            var repeat = alert.Phase.State == "firing" && alert.LastNotifiedAt is not null;
            if (repeat)
                Logger.LogInformation("Alert {AlertName} {Labels} still firing at {Value}: notification {Notification}", rule.Name, alert.GroupKey, alert.Value, alert.Notifications + 1);
            await events.PublishAsync("alerts", $"alert.{alert.Phase.State}", new
            {
                alertId = alert.AlertId, ruleId = rule.RuleId, name = rule.Name, severity = rule.Severity, labels = alert.Labels, value = alert.Value, rule.Summary,
                repeat, notification = alert.Phase.State == "firing" ? alert.Notifications + 1 : alert.Notifications,
            });
            if (alert.Phase.State == "firing") notified.Add(alert.AlertId);
        }
        await store.MarkNotifiedAsync(notified, now, cancellationToken);
    }

    /// <summary>
    /// A firing alert is due when it has not been notified in this episode, or its repeat interval has passed since
    /// the last notification and nobody acknowledged it; a resolved one when its firing was notified.
    /// </summary>
    bool IsDue(AlertRule rule, StoredAlert alert, DateTimeOffset now)
    {
        if (alert.Phase.State == "resolved") return alert.LastNotifiedAt is not null;
        var repeatEvery = rule.RepeatIntervalMs > 0 ? TimeSpan.FromMilliseconds(rule.RepeatIntervalMs) : options.Value.RepeatInterval;
        return alert.LastNotifiedAt is not { } last || (!alert.IsAcknowledged(now) && now - last >= repeatEvery);
    }

    async Task EvaluateRuleAsync(
        AlertRule rule, DateTimeOffset now, List<(AlertRule, StoredAlert, bool)> candidates, List<(AlertRule, IReadOnlyDictionary<string, string>)> firing,
        CancellationToken cancellationToken)
    {
        var ruleId = Guid.Parse(rule.RuleId);
        var measured = (await ranges.RunAsync(AlertRules.Query(rule, now), cancellationToken))
            .Where(g => g.Points.Count > 0)
            .ToDictionary(g => GroupKey(g.Labels), g => (g.Labels, Value: g.Points[^1].Value));
        var known = (await store.AlertsAsync(ruleId, ["inactive", "pending", "firing", "resolved"], cancellationToken)).ToDictionary(a => a.GroupKey);

        var changes = new List<(StoredAlert, string?)>();
        foreach (var key in measured.Keys.Union(known.Keys))
        {
            var current = known.GetValueOrDefault(key);
            var hasValue = measured.TryGetValue(key, out var group);
            var value = hasValue ? group.Value : current?.Value ?? 0;
            var holds = hasValue && AlertRules.Holds(rule, value);
            var phase = AlertStateMachine.Next(current?.Phase ?? AlertPhase.Inactive, holds, now, TimeSpan.FromMilliseconds(rule.ForMs));
            if (current is null && phase.State == "inactive") continue;

            var labels = current?.Labels ?? Labels(rule, group.Labels);
            var alert = current is null
                ? new StoredAlert(Guid.NewGuid(), ruleId, key, labels, phase, value, null, null, null, null)
                : current with { Phase = phase, Value = value };
            changes.Add((alert, current?.Phase.State ?? "inactive"));

            var changed = phase.State != (current?.Phase.State ?? "inactive");
            if (phase.State == "firing") firing.Add((rule, labels));
            if (phase.State == "firing" || (changed && phase.State == "resolved"))
                candidates.Add((rule, alert, changed));
        }
        await store.SaveEvaluationAsync(changes, now, cancellationToken);
    }

    static Dictionary<string, string> Labels(AlertRule rule, IReadOnlyDictionary<string, string> group)
    {
        var labels = new Dictionary<string, string>(group);
        foreach (var (key, value) in rule.Labels) labels[key] = value;
        labels["alertname"] = rule.Name;
        labels["severity"] = rule.Severity;
        return labels;
    }

    static string GroupKey(IReadOnlyDictionary<string, string> labels) =>
        JsonSerializer.Serialize(labels.OrderBy(l => l.Key, StringComparer.Ordinal).ToDictionary());
}
