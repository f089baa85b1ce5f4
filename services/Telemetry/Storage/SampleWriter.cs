using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Storage;

/// <summary>One sample to store: its series, time and value.</summary>
public sealed record StoredSample(SeriesKey Series, DateTimeOffset Time, double Value);

/// <summary>The result of writing one agent batch.</summary>
public sealed record BatchWriteResult(int Accepted, bool Duplicate);

/// <summary>
/// Commits an agent's batch exactly once: the agent's cursor row is locked (<c>FOR UPDATE</c>) for the transaction, so
/// two deliveries of the same sequence cannot both pass the duplicate check; samples go in by binary COPY.
/// </summary>
public sealed class SampleWriter(NpgsqlDataSource db, SeriesCatalog catalog, TimeProvider clock)
{
    public async Task<BatchWriteResult> WriteBatchAsync(string agentId, long sequence, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        if (await LockCursorAsync(connection, transaction, agentId, cancellationToken) >= sequence)
            return new(0, Duplicate: true);

        var ids = await catalog.ResolveAsync(connection, transaction, [.. samples.Select(s => s.Series)], cancellationToken);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY telemetry.samples (series_id, time, value) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var sample in samples)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(ids[sample.Series.HashKey], NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(sample.Time, NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(sample.Value, NpgsqlDbType.Double, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }

        await using (var advance = new NpgsqlCommand(
            "UPDATE telemetry.agent_cursors SET last_sequence = $2, updated_at = $3 WHERE agent_id = $1", connection, transaction))
        {
            advance.Parameters.Add(new() { Value = agentId });
            advance.Parameters.Add(new() { Value = sequence });
            advance.Parameters.Add(new() { Value = clock.GetUtcNow() });
            await advance.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        catalog.Remember(ids);
        return new(samples.Count, Duplicate: false);
    }

    static async Task<long> LockCursorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string agentId, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("INSERT INTO telemetry.agent_cursors (agent_id, last_sequence, updated_at) VALUES ($1, 0, now()) ON CONFLICT (agent_id) DO NOTHING")
                    { Parameters = { new() { Value = agentId } } },
                new("SELECT last_sequence FROM telemetry.agent_cursors WHERE agent_id = $1 FOR UPDATE")
                    { Parameters = { new() { Value = agentId } } },
            },
        };
        return (long)(await batch.ExecuteScalarAsync(cancellationToken))!;
    }
}
