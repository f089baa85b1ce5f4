using System.Text.Json;
using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Alerts;

/// <summary>A stored alert: its identity, labels, phase, value, acknowledgement and notifications of this firing episode.</summary>
public sealed record StoredAlert(
    Guid AlertId, Guid RuleId, string GroupKey, Dictionary<string, string> Labels, AlertPhase Phase, double Value,
    string? AckBy, string? AckComment, DateTimeOffset? AckAt, DateTimeOffset? AckExpiresAt,
    DateTimeOffset? LastNotifiedAt = null, int Notifications = 0)
{
    /// <summary>Acknowledged and not past the acknowledgement's expiry.</summary>
    public bool IsAcknowledged(DateTimeOffset now) => AckBy is not null && (AckExpiresAt is null || AckExpiresAt > now);
}

/// <summary>Alert rules, alerts, their transitions and silences, in PostgreSQL.</summary>
public sealed class AlertStore(NpgsqlDataSource db)
{
    static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public async Task CreateRuleAsync(AlertRule rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("INSERT INTO telemetry.alert_rules (rule_id, definition, created_at) VALUES ($1, $2, $3)");
        command.Parameters.Add(new() { Value = Guid.Parse(rule.RuleId) });
        command.Parameters.Add(new() { Value = JsonFormatter.Default.Format(rule), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AlertRule>> RulesAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT definition::text FROM telemetry.alert_rules ORDER BY created_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rules = new List<AlertRule>();
        while (await reader.ReadAsync(cancellationToken)) rules.Add(Parser.Parse<AlertRule>(reader.GetString(0)));
        return rules;
    }

    public async Task<bool> DeleteRuleAsync(Guid ruleId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("DELETE FROM telemetry.alert_rules WHERE rule_id = $1");
        command.Parameters.Add(new() { Value = ruleId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    const string AlertColumns = "alert_id, rule_id, group_key, labels::text, state, value, active_since, fired_at, resolved_at, ack_by, ack_comment, ack_at, ack_expires_at, last_notified_at, notifications";

    public async Task<IReadOnlyList<StoredAlert>> AlertsAsync(Guid? ruleId, IReadOnlyCollection<string> states, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT {AlertColumns} FROM telemetry.alerts
            WHERE ($1::uuid IS NULL OR rule_id = $1) AND state = ANY($2) ORDER BY updated_at DESC
            """);
        command.Parameters.Add(new() { Value = (object?)ruleId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = states.ToArray() });
        return await ReadAlertsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Writes an evaluation's alerts and their transitions in one transaction. Acknowledgements end when an alert
    /// resolves. Replicas never race here: only the one holding the evaluator's lock evaluates.
    /// </summary>
    public async Task SaveEvaluationAsync(IReadOnlyList<(StoredAlert Alert, string? From)> changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (changes.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (alert, from) in changes)
        {
            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO telemetry.alerts AS a (alert_id, rule_id, group_key, labels, state, value, active_since, fired_at, resolved_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (rule_id, group_key) DO UPDATE SET
                    labels = EXCLUDED.labels, state = EXCLUDED.state, value = EXCLUDED.value, active_since = EXCLUDED.active_since,
                    fired_at = EXCLUDED.fired_at, resolved_at = EXCLUDED.resolved_at, updated_at = EXCLUDED.updated_at,
                    ack_by = CASE WHEN EXCLUDED.state = 'resolved' THEN NULL ELSE a.ack_by END,
                    ack_comment = CASE WHEN EXCLUDED.state = 'resolved' THEN NULL ELSE a.ack_comment END,
                    ack_at = CASE WHEN EXCLUDED.state = 'resolved' THEN NULL ELSE a.ack_at END,
                    ack_expires_at = CASE WHEN EXCLUDED.state = 'resolved' THEN NULL ELSE a.ack_expires_at END,
                    last_notified_at = CASE WHEN EXCLUDED.state = 'resolved' THEN NULL ELSE a.last_notified_at END,
                    notifications = CASE WHEN EXCLUDED.state = 'resolved' THEN 0 ELSE a.notifications END
                """);
            upsert.Parameters.Add(new() { Value = alert.AlertId });
            upsert.Parameters.Add(new() { Value = alert.RuleId });
            upsert.Parameters.Add(new() { Value = alert.GroupKey });
            upsert.Parameters.Add(new() { Value = JsonSerializer.Serialize(alert.Labels), NpgsqlDbType = NpgsqlDbType.Jsonb });
            upsert.Parameters.Add(new() { Value = alert.Phase.State });
            upsert.Parameters.Add(new() { Value = alert.Value });
            upsert.Parameters.Add(new() { Value = (object?)alert.Phase.ActiveSince ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            upsert.Parameters.Add(new() { Value = (object?)alert.Phase.FiredAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            upsert.Parameters.Add(new() { Value = (object?)alert.Phase.ResolvedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            upsert.Parameters.Add(new() { Value = now });
            batch.BatchCommands.Add(upsert);
            if (from is null || from == alert.Phase.State) continue;
            var transition = new NpgsqlBatchCommand(
                "INSERT INTO telemetry.alert_transitions (alert_id, from_state, to_state, value, at) SELECT alert_id, $2, $3, $4, $5 FROM telemetry.alerts WHERE rule_id = $1 AND group_key = $6");
            transition.Parameters.Add(new() { Value = alert.RuleId });
            transition.Parameters.Add(new() { Value = from });
            transition.Parameters.Add(new() { Value = alert.Phase.State });
            transition.Parameters.Add(new() { Value = alert.Value });
            transition.Parameters.Add(new() { Value = now });
            transition.Parameters.Add(new() { Value = alert.GroupKey });
            batch.BatchCommands.Add(transition);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Records that firing notifications of these alerts went out now.</summary>
    public async Task MarkNotifiedAsync(IReadOnlyCollection<Guid> alertIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (alertIds.Count == 0) return;
        await using var command = db.CreateCommand(
            "UPDATE telemetry.alerts SET last_notified_at = $2, notifications = notifications + 1 WHERE alert_id = ANY($1) AND state = 'firing'");
        command.Parameters.Add(new() { Value = alertIds.ToArray() });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Acknowledges a pending or firing alert; returns it, or null with its state when it cannot be.</summary>
    public async Task<(StoredAlert? Alert, string? State)> AcknowledgeAsync(
        Guid alertId, string by, string comment, DateTimeOffset now, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            WITH updated AS (
                UPDATE telemetry.alerts SET ack_by = $2, ack_comment = $3, ack_at = $4, ack_expires_at = $5
                WHERE alert_id = $1 AND state IN ('pending', 'firing') RETURNING {AlertColumns})
            SELECT {AlertColumns} FROM updated
            """);
        command.Parameters.Add(new() { Value = alertId });
        command.Parameters.Add(new() { Value = by });
        command.Parameters.Add(new() { Value = comment });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = (object?)expiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var updated = (await ReadAlertsAsync(command, cancellationToken)).SingleOrDefault();
        if (updated is not null) return (updated, updated.Phase.State);
        await using var state = db.CreateCommand("SELECT state FROM telemetry.alerts WHERE alert_id = $1");
        state.Parameters.Add(new() { Value = alertId });
        return (null, (string?)await state.ExecuteScalarAsync(cancellationToken));
    }

    public async Task<IReadOnlyList<AlertTransition>?> HistoryAsync(Guid alertId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT t.from_state, t.to_state, t.value, t.at FROM telemetry.alerts a
            LEFT JOIN telemetry.alert_transitions t ON t.alert_id = a.alert_id
            WHERE a.alert_id = $1 ORDER BY t.at
            """);
        command.Parameters.Add(new() { Value = alertId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        List<AlertTransition>? transitions = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            transitions ??= [];
            if (reader.IsDBNull(0)) continue;
            transitions.Add(new AlertTransition
            {
                FromState = reader.GetString(0), ToState = reader.GetString(1), Value = reader.GetDouble(2),
                AtMs = reader.GetFieldValue<DateTimeOffset>(3).ToUnixTimeMilliseconds(),
            });
        }
        return transitions;
    }

    public async Task CreateSilenceAsync(Silence silence, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("INSERT INTO telemetry.silences (silence_id, matchers, starts_at, ends_at, author, comment) VALUES ($1, $2, $3, $4, $5, $6)");
        command.Parameters.Add(new() { Value = Guid.Parse(silence.SilenceId) });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(silence.Match.ToArray()), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = DateTimeOffset.FromUnixTimeMilliseconds(silence.StartsAtMs) });
        command.Parameters.Add(new() { Value = DateTimeOffset.FromUnixTimeMilliseconds(silence.EndsAtMs) });
        command.Parameters.Add(new() { Value = silence.Author });
        command.Parameters.Add(new() { Value = silence.Comment });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Silence>> SilencesAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT silence_id, matchers::text, starts_at, ends_at, author, comment FROM telemetry.silences ORDER BY starts_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var silences = new List<Silence>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var silence = new Silence
            {
                SilenceId = reader.GetGuid(0).ToString(),
                StartsAtMs = reader.GetFieldValue<DateTimeOffset>(2).ToUnixTimeMilliseconds(),
                EndsAtMs = reader.GetFieldValue<DateTimeOffset>(3).ToUnixTimeMilliseconds(),
                Author = reader.GetString(4),
                Comment = reader.GetString(5),
            };
            silence.Match.AddRange(JsonSerializer.Deserialize<string[]>(reader.GetString(1)) ?? []);
            silences.Add(silence);
        }
        return silences;
    }

    static async Task<IReadOnlyList<StoredAlert>> ReadAlertsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var alerts = new List<StoredAlert>();
        while (await reader.ReadAsync(cancellationToken))
            alerts.Add(new(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [],
                new AlertPhase(reader.GetString(4), Time(reader, 6), Time(reader, 7), Time(reader, 8)),
                reader.GetDouble(5),
                reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10), Time(reader, 11), Time(reader, 12),
                Time(reader, 13), reader.GetInt32(14)));
        return alerts;
    }

    static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
