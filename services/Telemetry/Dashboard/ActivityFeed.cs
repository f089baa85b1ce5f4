using Npgsql;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Dashboard;

/// <summary>Recent activity from what is stored: alert transitions, agent registrations and agents' first batches.</summary>
public sealed class ActivityFeed(NpgsqlDataSource db)
{
    public async Task<IReadOnlyList<ActivityItem>> RecentAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            (SELECT t.at, 'alert', r.definition ->> 'name', t.from_state || ' -> ' || t.to_state || ' at ' || t.value
               FROM telemetry.alert_transitions t
               JOIN telemetry.alerts a ON a.alert_id = t.alert_id
               JOIN telemetry.alert_rules r ON r.rule_id = a.rule_id
              ORDER BY t.at DESC LIMIT $1)
            UNION ALL
            (SELECT registered_at, 'agent', agent_id, 'registered' FROM telemetry.agents
              WHERE registered_at IS NOT NULL ORDER BY registered_at DESC LIMIT $1)
            UNION ALL
            (SELECT first_seen_at, 'agent', agent_id, 'sent its first batch' FROM telemetry.agent_cursors
              ORDER BY first_seen_at DESC LIMIT $1)
            ORDER BY 1 DESC LIMIT $1
            """);
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<ActivityItem>();
        while (await reader.ReadAsync(cancellationToken))
            items.Add(new ActivityItem
            {
                AtMs = reader.GetFieldValue<DateTimeOffset>(0).ToUnixTimeMilliseconds(),
                Kind = reader.GetString(1),
                Subject = reader.IsDBNull(2) ? "" : reader.GetString(2),
                Message = reader.GetString(3),
            });
        return items;
    }
}
