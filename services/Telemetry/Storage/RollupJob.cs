using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Storage;

public sealed class RollupOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Off: nothing is rolled up and every range query reads raw samples.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Builds the rollup tiers: 1-minute buckets from raw samples once a minute has settled, 1-hour buckets from the
/// minutes once the hour's minutes are all rolled. Each tier's progress is a watermark in
/// <c>telemetry.rollup_progress</c>, advanced in the same transaction as the rows it covers; late samples recorded by
/// the writer in <c>telemetry.rollup_dirty</c> are re-rolled (both tiers, only their series) and then forgotten.
/// One pass at a time across replicas (a session advisory lock); a pass does a bounded amount of work.
/// </summary>
public sealed class RollupJob(NpgsqlDataSource db, IOptions<RollupOptions> options, TimeProvider clock, ILogger<RollupJob> logger)
    : BackgroundService
{
    const long LockKey = 0x726F6C6C75707321; // "rollups!"
    const int MaxChunksPerPass = 48;
    const int MaxDirtyPerPass = 1_000;
    static readonly TimeSpan MinuteChunk = TimeSpan.FromHours(1);
    static readonly TimeSpan HourChunk = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            try
            {
                await RollUpAsync(stoppingToken);
            }
            catch (NpgsqlException ex)
            {
                logger.LogError(ex, "Rolling up samples failed; retrying in {Interval}", options.Value.Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Runs one bounded pass; true when both tiers have caught up with the settled past.</summary>
    public async Task<bool> RollUpAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await Execute(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            var (minutesUntil, hoursUntil) = await ProgressAsync(connection, cancellationToken);
            var minuteTarget = RollupTier.Minute.Floor(clock.GetUtcNow() - RollupTier.Settle);
            var chunks = 0;
            for (; minutesUntil < minuteTarget && chunks < MaxChunksPerPass; chunks++)
            {
                var to = Min(minutesUntil + MinuteChunk, minuteTarget);
                await RollAsync(connection, RollupTier.Minute, minutesUntil, to, null, advance: true, cancellationToken);
                minutesUntil = to;
            }

            var dirtyLeft = await RerollLateSamplesAsync(connection, minutesUntil, hoursUntil, cancellationToken);

            var hourTarget = RollupTier.Hour.Floor(minutesUntil);
            for (; hoursUntil < hourTarget && chunks < MaxChunksPerPass; chunks++)
            {
                var to = Min(hoursUntil + HourChunk, hourTarget);
                await RollAsync(connection, RollupTier.Hour, hoursUntil, to, null, advance: true, cancellationToken);
                hoursUntil = to;
            }
            return minutesUntil == minuteTarget && hoursUntil == hourTarget && !dirtyLeft;
        }
        finally
        {
            await Execute(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    /// <summary>
    /// The watermarks; on the first pass both start at the oldest raw partition (or the oldest accepted timestamp), so
    /// samples stored before rollups existed are rolled up too.
    /// </summary>
    async Task<(DateTimeOffset Minutes, DateTimeOffset Hours)> ProgressAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            WITH oldest AS (
                SELECT coalesce(
                    (SELECT to_date(substring(min(c.relname) FROM 10), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC'
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry.samples'::regclass),
                    $1) AS start)
            INSERT INTO telemetry.rollup_progress (tier, rolled_until)
            SELECT '1m', date_bin('1 minute', start, {RollupTier.SqlOrigin}) FROM oldest
            UNION ALL SELECT '1h', date_bin('1 hour', start, {RollupTier.SqlOrigin}) FROM oldest
            ON CONFLICT (tier) DO NOTHING
            """, connection);
        command.Parameters.Add(new() { Value = clock.GetUtcNow() - SampleWindow.MaxAge });
        await command.ExecuteNonQueryAsync(cancellationToken);

        await using var select = new NpgsqlCommand("""
            SELECT (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1m'),
                   (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1h')
            """, connection);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>Re-rolls the buckets of late samples below each tier's watermark; true if more remain for the next pass.</summary>
    async Task<bool> RerollLateSamplesAsync(NpgsqlConnection connection, DateTimeOffset minutesUntil, DateTimeOffset hoursUntil, CancellationToken cancellationToken)
    {
        var late = new List<(long Id, long[] Series, DateTimeOffset From, DateTimeOffset To)>();
        await using (var select = new NpgsqlCommand("SELECT id, series_ids, from_time, to_time FROM telemetry.rollup_dirty ORDER BY id LIMIT $1", connection))
        {
            select.Parameters.Add(new() { Value = MaxDirtyPerPass + 1 });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                late.Add((reader.GetInt64(0), reader.GetFieldValue<long[]>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }
        if (late.Count == 0) return false;

        foreach (var (id, series, from, to) in late.Take(MaxDirtyPerPass))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var minuteEnd = Min(RollupTier.Minute.After(to), minutesUntil);
            if (RollupTier.Minute.Floor(from) < minuteEnd)
                await RollAsync(connection, RollupTier.Minute, RollupTier.Minute.Floor(from), minuteEnd, series, advance: false, cancellationToken, transaction);
            var hourEnd = Min(RollupTier.Hour.After(to), hoursUntil);
            if (RollupTier.Hour.Floor(from) < hourEnd)
                await RollAsync(connection, RollupTier.Hour, RollupTier.Hour.Floor(from), hourEnd, series, advance: false, cancellationToken, transaction);
            await Execute(connection, transaction, $"DELETE FROM telemetry.rollup_dirty WHERE id = {id}", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return late.Count > MaxDirtyPerPass;
    }

    /// <summary>
    /// Replaces the tier's buckets in [from, to) — of all series, or only of <paramref name="series"/> — with fresh
    /// aggregates of the level below, and moves the watermark to <paramref name="to"/> when <paramref name="advance"/>.
    /// </summary>
    static async Task RollAsync(NpgsqlConnection connection, RollupTier tier, DateTimeOffset from, DateTimeOffset to, long[]? series,
        bool advance, CancellationToken cancellationToken, NpgsqlTransaction? outer = null)
    {
        var (aggregates, source, time) = tier == RollupTier.Minute
            ? ("count(*), sum(value), min(value), max(value)", "telemetry.samples", "time")
            : ("sum(count)::bigint, sum(sum), min(min), max(max)", "telemetry.rollup_1m", "bucket");
        await using var transaction = outer is null ? await connection.BeginTransactionAsync(cancellationToken) : null;
        await using var command = new NpgsqlCommand($"""
            INSERT INTO telemetry.{tier.Table.Name} (series_id, bucket, count, sum, min, max)
            SELECT series_id, date_bin($3, {time}, {RollupTier.SqlOrigin}), {aggregates}
            FROM {source}
            WHERE {time} >= $1 AND {time} < $2 AND ($4::bigint[] IS NULL OR series_id = ANY($4))
            GROUP BY 1, 2
            ORDER BY 1, 2 -- a series' buckets of one pass share heap pages: reading a series over a day touches few pages
            ON CONFLICT (series_id, bucket) DO UPDATE SET count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max
            """, connection, outer ?? transaction);
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        command.Parameters.Add(new() { Value = tier.Resolution });
        command.Parameters.Add(new() { Value = (object?)series ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        await command.ExecuteNonQueryAsync(cancellationToken);

        if (advance)
        {
            await using var progress = new NpgsqlCommand("UPDATE telemetry.rollup_progress SET rolled_until = $2 WHERE tier = $1", connection, outer ?? transaction);
            progress.Parameters.Add(new() { Value = tier.Name });
            progress.Parameters.Add(new() { Value = to });
            await progress.ExecuteNonQueryAsync(cancellationToken);
        }
        if (transaction is not null) await transaction.CommitAsync(cancellationToken);
    }

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
