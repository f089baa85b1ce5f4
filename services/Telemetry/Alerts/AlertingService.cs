using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>Alert rules, alerts (the seeds' <c>/api/monitoring/alerts</c>), acknowledgements, history and silences.</summary>
public sealed class AlertingService(AlertStore store, TimeProvider clock) : Alerting.AlertingBase
{
    static readonly string[] States = ["inactive", "pending", "firing", "resolved"];

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<AlertRule> CreateAlertRule(AlertRule request, ServerCallContext context)
    {
        var rule = AlertRules.Normalize(request);
        var now = clock.GetUtcNow();
        rule.RuleId = Guid.NewGuid().ToString();
        rule.CreatedAtMs = now.ToUnixTimeMilliseconds();
        await store.CreateRuleAsync(rule, now, context.CancellationToken);
        return rule;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListAlertRulesResponse> ListAlertRules(ListAlertRulesRequest request, ServerCallContext context)
    {
        var response = new ListAlertRulesResponse();
        response.Rules.AddRange(await store.RulesAsync(context.CancellationToken));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<DeleteAlertRuleResponse> DeleteAlertRule(AlertRuleRequest request, ServerCallContext context)
    {
        var ruleId = RequestValidation.RequireGuid(request.RuleId, "rule_id");
        if (!await store.DeleteRuleAsync(ruleId, context.CancellationToken))
            throw new RpcException(new Status(StatusCode.NotFound, $"No alert rule {ruleId}."));
        return new DeleteAlertRuleResponse();
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListAlertsResponse> ListAlerts(ListAlertsRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.State == "" || States.Contains(request.State), "state", "must be inactive, pending, firing or resolved").ThrowIfInvalid();
        var now = clock.GetUtcNow();
        var rules = (await store.RulesAsync(context.CancellationToken)).ToDictionary(r => r.RuleId);
        var silences = await store.SilencesAsync(context.CancellationToken);
        var alerts = await store.AlertsAsync(null, request.State == "" ? ["pending", "firing"] : [request.State], context.CancellationToken);
        var firing = await FiringAsync(rules, context.CancellationToken);
        var response = new ListAlertsResponse();
        response.Alerts.AddRange(alerts.Select(a => ToMessage(a, rules.GetValueOrDefault(a.RuleId.ToString()), silences, firing, now)));
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Alert> AcknowledgeAlert(AcknowledgeAlertRequest request, ServerCallContext context)
    {
        var alertId = RequestValidation.RequireGuid(request.AlertId, "alert_id");
        var now = clock.GetUtcNow();
        new RequestValidation()
            .Require(request.Comment.Length <= 1024, "comment", "at most 1024 characters")
            .Require(request.ExpiresAtMs == 0 || request.ExpiresAtMs > now.ToUnixTimeMilliseconds(), "expires_at_ms", "must be in the future")
            .ThrowIfInvalid();
        var by = context.Caller();
        var expires = request.ExpiresAtMs == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(request.ExpiresAtMs);
        var (alert, state) = await store.AcknowledgeAsync(alertId, by, request.Comment, now, expires, context.CancellationToken);
        if (alert is null && state is null)
            throw new RpcException(new Status(StatusCode.NotFound, $"No alert {alertId}."));
        if (alert is null)
            throw new RpcException(new Status(StatusCode.Aborted, $"The alert is {state}; only pending or firing alerts can be acknowledged."));
        var rules = (await store.RulesAsync(context.CancellationToken)).ToDictionary(r => r.RuleId);
        return ToMessage(alert, rules.GetValueOrDefault(alert.RuleId.ToString()), await store.SilencesAsync(context.CancellationToken),
            await FiringAsync(rules, context.CancellationToken), now);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<AlertHistory> GetAlertHistory(AlertRequest request, ServerCallContext context)
    {
        var alertId = RequestValidation.RequireGuid(request.AlertId, "alert_id");
        var transitions = await store.HistoryAsync(alertId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"No alert {alertId}."));
        var history = new AlertHistory();
        history.Transitions.AddRange(transitions);
        return history;
    }

    [Authorize(Policy = PlatformPolicies.Operator)]
    public override async Task<Silence> CreateSilence(Silence request, ServerCallContext context)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var silence = request.Clone();
        if (silence.StartsAtMs == 0) silence.StartsAtMs = now;
        new RequestValidation()
            .Require(silence.Match.Count is > 0 and <= 32 && silence.Match.All(m => m.Split('=', 2) is [{ Length: > 0 }, _]), "match", "1-32 label=value pairs")
            .Require(silence.EndsAtMs > silence.StartsAtMs, "ends_at_ms", "must be after starts_at_ms")
            .Require(silence.EndsAtMs > now, "ends_at_ms", "must be in the future")
            .Require(silence.Comment.Length <= 1024, "comment", "at most 1024 characters")
            .ThrowIfInvalid();
        silence.SilenceId = Guid.NewGuid().ToString();
        silence.Author = context.Caller();
        await store.CreateSilenceAsync(silence, context.CancellationToken);
        return silence;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListSilencesResponse> ListSilences(ListSilencesRequest request, ServerCallContext context)
    {
        var response = new ListSilencesResponse();
        response.Silences.AddRange(await store.SilencesAsync(context.CancellationToken));
        return response;
    }

    async Task<List<(AlertRule Rule, IReadOnlyDictionary<string, string> Labels)>> FiringAsync(
        IReadOnlyDictionary<string, AlertRule> rules, CancellationToken cancellationToken) =>
        [.. (await store.AlertsAsync(null, ["firing"], cancellationToken))
            .Where(a => rules.ContainsKey(a.RuleId.ToString()))
            .Select(a => (rules[a.RuleId.ToString()], (IReadOnlyDictionary<string, string>)a.Labels))];

    static Alert ToMessage(
        StoredAlert alert, AlertRule? rule, IReadOnlyList<Silence> silences, IEnumerable<(AlertRule, IReadOnlyDictionary<string, string>)> firing, DateTimeOffset now)
    {
        var message = new Alert
        {
            AlertId = alert.AlertId.ToString(),
            RuleId = alert.RuleId.ToString(),
            Name = rule?.Name ?? "",
            Severity = rule?.Severity ?? "",
            State = alert.Phase.State,
            Value = alert.Value,
            ActiveSinceMs = alert.Phase.ActiveSince?.ToUnixTimeMilliseconds() ?? 0,
            FiredAtMs = alert.Phase.FiredAt?.ToUnixTimeMilliseconds() ?? 0,
            ResolvedAtMs = alert.Phase.ResolvedAt?.ToUnixTimeMilliseconds() ?? 0,
            Summary = rule?.Summary ?? "",
            RunbookUrl = rule?.RunbookUrl ?? "",
            Silenced = silences.Any(s => Silences.Covers(s, alert.Labels, now)),
            Inhibited = Inhibitions.IsInhibited(alert.Labels, firing.Where(f => !f.Item2.SequenceEqual(alert.Labels))),
        };
        message.Labels.Add(alert.Labels);
        message.LastNotifiedAtMs = alert.LastNotifiedAt?.ToUnixTimeMilliseconds() ?? 0;
        message.Notifications = alert.Notifications;
        // An acknowledgement past its expiry no longer counts.
        if (alert.IsAcknowledged(now))
            message.Acknowledgement = new Acknowledgement
            {
                By = alert.AckBy, Comment = alert.AckComment ?? "",
                AtMs = alert.AckAt?.ToUnixTimeMilliseconds() ?? 0, ExpiresAtMs = alert.AckExpiresAt?.ToUnixTimeMilliseconds() ?? 0,
            };
        return message;
    }
}
