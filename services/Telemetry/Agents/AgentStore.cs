using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Agents;

/// <summary>
/// <c>telemetry.agents</c> (registrations, configuration) joined with <c>telemetry.agent_cursors</c> (what each agent
/// committed): an agent exists if either row does.
/// </summary>
public sealed class AgentStore(NpgsqlDataSource db)
{
    const string Select = """
        SELECT coalesce(a.agent_id, c.agent_id), coalesce(a.node, ''), coalesce(a.hostname, ''), coalesce(a.provider, ''),
               coalesce(a.region, ''), coalesce(a.version, ''), coalesce(a.labels, '{}'),
               least(a.registered_at, c.first_seen_at), greatest(a.last_seen_at, c.updated_at),
               coalesce(c.batches, 0), coalesce(c.samples, 0), coalesce(c.last_sequence, 0), c.first_seen_at, c.updated_at
        FROM telemetry.agents a FULL JOIN telemetry.agent_cursors c ON c.agent_id = a.agent_id
        """;

    public async Task<IReadOnlyList<AgentRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(Select + " ORDER BY 1");
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<AgentRecord?> GetAsync(string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(Select + " WHERE coalesce(a.agent_id, c.agent_id) = $1");
        command.Parameters.Add(new() { Value = agentId });
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>The agent's configuration as JSON; null when no such agent exists.</summary>
    public async Task<string?> GetConfigAsync(string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT coalesce(a.config, '{}')::text
            FROM telemetry.agents a FULL JOIN telemetry.agent_cursors c ON c.agent_id = a.agent_id
            WHERE coalesce(a.agent_id, c.agent_id) = $1
            """);
        command.Parameters.Add(new() { Value = agentId });
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Replaces an existing agent's configuration; false when no such agent exists.</summary>
    public async Task<bool> PutConfigAsync(string agentId, string configJson, CancellationToken cancellationToken)
    {
        // The upsert only runs for an agent that exists in either table, in one statement.
        await using var command = db.CreateCommand("""
            INSERT INTO telemetry.agents (agent_id, config)
            SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM telemetry.agents WHERE agent_id = $1)
                             OR EXISTS (SELECT 1 FROM telemetry.agent_cursors WHERE agent_id = $1)
            ON CONFLICT (agent_id) DO UPDATE SET config = EXCLUDED.config
            """);
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = configJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Deletes the registration and the cursor together; false when neither existed.</summary>
    public async Task<bool> DeleteAsync(string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            WITH registration AS (DELETE FROM telemetry.agents WHERE agent_id = $1 RETURNING 1),
                 cursor AS (DELETE FROM telemetry.agent_cursors WHERE agent_id = $1 RETURNING 1),
                 epochs AS (DELETE FROM telemetry.batch_cursors WHERE agent_id = $1)
            SELECT (SELECT count(*) FROM registration) + (SELECT count(*) FROM cursor)
            """);
        command.Parameters.Add(new() { Value = agentId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    /// <summary>Records what an agent says about itself; empty values leave what was known before.</summary>
    public async Task RegisterAsync(AgentRegistration registration, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO telemetry.agents AS a (agent_id, node, hostname, provider, region, version, labels, registered_at, last_seen_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            ON CONFLICT (agent_id) DO UPDATE SET
                node = coalesce(nullif(EXCLUDED.node, ''), a.node), hostname = coalesce(nullif(EXCLUDED.hostname, ''), a.hostname),
                provider = coalesce(nullif(EXCLUDED.provider, ''), a.provider), region = coalesce(nullif(EXCLUDED.region, ''), a.region),
                version = coalesce(nullif(EXCLUDED.version, ''), a.version),
                labels = CASE WHEN EXCLUDED.labels = '{}' THEN a.labels ELSE EXCLUDED.labels END,
                registered_at = coalesce(a.registered_at, EXCLUDED.registered_at), last_seen_at = EXCLUDED.last_seen_at
            """);
        command.Parameters.Add(new() { Value = registration.AgentId });
        command.Parameters.Add(new() { Value = registration.Node });
        command.Parameters.Add(new() { Value = registration.Hostname });
        command.Parameters.Add(new() { Value = registration.Provider });
        command.Parameters.Add(new() { Value = registration.Region });
        command.Parameters.Add(new() { Value = registration.Version });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(registration.Labels), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks a registered agent as just seen.</summary>
    public async Task TouchAsync(string agentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE telemetry.agents SET last_seen_at = $2 WHERE agent_id = $1");
        command.Parameters.Add(new() { Value = agentId });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static async Task<IReadOnlyList<AgentRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var agents = new List<AgentRecord>();
        while (await reader.ReadAsync(cancellationToken))
            agents.Add(new(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6)) ?? [],
                Nullable(reader, 7), Nullable(reader, 8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11),
                Nullable(reader, 12), Nullable(reader, 13)));
        return agents;
    }

    static DateTimeOffset? Nullable(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
