using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Storage;

/// <summary>One sample to store: its series, time and value.</summary>
public sealed record StoredSample(SeriesKey Series, DateTimeOffset Time, double Value);

/// <summary>The result of writing one agent batch.</summary>
public sealed record BatchWriteResult(int Accepted, bool Duplicate);

/// <summary>
/// Commits an agent's batch exactly once. The first statement advances the cursor of the batch's (agent, epoch) only if
/// the batch is newer and keeps that row locked until commit: a second delivery of the same sequence waits for the first
/// and then finds nothing to advance, so it is a duplicate; if the first rolls back, the second proceeds. The same
/// statement counts the batch on the agent's row. Samples go in by binary COPY.
/// </summary>
public sealed class SampleWriter(NpgsqlDataSource db, SeriesCatalog catalog, TimeProvider clock)
{
    public Task<BatchWriteResult> WriteBatchAsync(string agentId, long epoch, long sequence, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken) =>
        WriteAsync(agentId, (epoch, sequence), samples, cancellationToken);

    /// <summary>
    /// Stores samples that carry no sequence (Prometheus remote write): at least once, since a sender that retries
    /// after a lost response sends them again.
    /// </summary>
    public Task WriteUnsequencedAsync(string agentId, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken) =>
        WriteAsync(agentId, null, samples, cancellationToken);

    async Task<BatchWriteResult> WriteAsync(string agentId, (long Epoch, long Sequence)? batch, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        if (batch is { } numbered && !await AdvanceCursorAsync(connection, transaction, agentId, numbered.Epoch, numbered.Sequence, samples.Count, cancellationToken))
            return new(0, Duplicate: true);

        var keys = samples.Select(s => s.Series).ToArray();
        var ids = await catalog.ResolveAsync(connection, transaction, keys, agentId, cancellationToken);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY telemetry.samples (series_id, time, value) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var sample in samples)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(IdOf(sample, ids), NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(sample.Time, NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(sample.Value, NpgsqlDbType.Double, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await RecordLateSamplesAsync(connection, transaction, samples, ids, cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        catalog.Remember(keys, ids);
        return new(samples.Count, Duplicate: false);
    }

    /// <summary>
    /// Samples older than <see cref="RollupTier.LateAfter"/> may belong to buckets already rolled up: their series and time
    /// span are recorded in the same transaction, so the rollup job re-rolls exactly what was committed.
    /// </summary>
    async Task RecordLateSamplesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<StoredSample> samples,
        IReadOnlyDictionary<string, long> ids, CancellationToken cancellationToken)
    {
        var lateBefore = clock.GetUtcNow() - RollupTier.LateAfter;
        var late = samples.Where(s => s.Time < lateBefore).ToList();
        if (late.Count == 0) return;
        await using var record = new NpgsqlCommand(
            "INSERT INTO telemetry.rollup_dirty (series_ids, from_time, to_time) VALUES ($1, $2, $3)", connection, transaction);
        record.Parameters.Add(new() { Value = late.Select(s => IdOf(s, ids)).Distinct().ToArray() });
        record.Parameters.Add(new() { Value = late.Min(s => s.Time) });
        record.Parameters.Add(new() { Value = late.Max(s => s.Time) });
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The series id the interner already knew, or the one the catalog resolved for this batch.</summary>
    static long IdOf(StoredSample sample, IReadOnlyDictionary<string, long> ids) =>
        sample.Series.Id is var known and not 0 ? known : ids[sample.Series.Identity];

    async Task<bool> AdvanceCursorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string agentId, long epoch, long sequence, int samples,
        CancellationToken cancellationToken)
    {
        await using var advance = new NpgsqlCommand("""
            WITH claimed AS (
                INSERT INTO telemetry.batch_cursors AS b (agent_id, epoch, last_sequence, updated_at) VALUES ($1, $5, $2, $3)
                ON CONFLICT (agent_id, epoch) DO UPDATE SET last_sequence = EXCLUDED.last_sequence, updated_at = EXCLUDED.updated_at
                WHERE b.last_sequence < EXCLUDED.last_sequence
                RETURNING 1)
            INSERT INTO telemetry.agent_cursors AS c (agent_id, last_sequence, updated_at, batches, samples, first_seen_at)
            SELECT $1, $2, $3, 1, $4, $3 FROM claimed
            ON CONFLICT (agent_id) DO UPDATE SET last_sequence = EXCLUDED.last_sequence, updated_at = EXCLUDED.updated_at,
                batches = c.batches + 1, samples = c.samples + EXCLUDED.samples
            RETURNING 1
            """, connection, transaction);
        advance.Parameters.Add(new() { Value = agentId });
        advance.Parameters.Add(new() { Value = sequence });
        advance.Parameters.Add(new() { Value = clock.GetUtcNow() });
        advance.Parameters.Add(new() { Value = (long)samples });
        advance.Parameters.Add(new() { Value = epoch });
        return await advance.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
