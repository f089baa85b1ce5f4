using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Storage;

/// <summary>A stored series with its points in time order.</summary>
public sealed record SeriesPoints(string Name, Dictionary<string, string> Labels, List<(DateTimeOffset Time, double Value)> Points);

/// <summary>Reads of <c>telemetry.series</c> and <c>telemetry.samples</c>.</summary>
public sealed class SampleReader(NpgsqlDataSource db)
{
    public async Task<IReadOnlyList<string>> MetricNamesAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT DISTINCT name FROM telemetry.series ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
            names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Whether a series of <paramref name="name"/> with <paramref name="label"/> = <paramref name="value"/> was ever stored.</summary>
    public async Task<bool> AnySeriesAsync(string name, string label, string value, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM telemetry.series WHERE name = $1 AND labels ->> $2 = $3)");
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = label });
        command.Parameters.Add(new() { Value = value });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The newest <paramref name="limit"/> points of each series of <paramref name="name"/> in the window.</summary>
    public async Task<IReadOnlyList<SeriesPoints>> SamplesAsync(
        string name, string? node, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT s.series_id, s.labels, p.time, p.value
            FROM telemetry.series s
            CROSS JOIN LATERAL (
                SELECT time, value FROM telemetry.samples
                WHERE series_id = s.series_id AND time >= $3 AND time <= $4
                ORDER BY time DESC
                LIMIT $5) p
            WHERE s.name = $1 AND ($2::text IS NULL OR s.labels ->> 'node' = $2)
            ORDER BY s.series_id, p.time
            """);
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = (object?)node ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = since });
        command.Parameters.Add(new() { Value = until });
        command.Parameters.Add(new() { Value = limit });

        var series = new List<SeriesPoints>();
        long current = -1;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            if (id != current)
            {
                series.Add(new(name, JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1)) ?? [], []));
                current = id;
            }
            series[^1].Points.Add((reader.GetFieldValue<DateTimeOffset>(2), reader.GetDouble(3)));
        }
        return series;
    }

    /// <summary>Metric names containing <paramref name="fragment"/>, case-insensitively (LIKE wildcards in it are literal).</summary>
    public async Task<IReadOnlyList<string>> SearchNamesAsync(string fragment, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(@"SELECT DISTINCT name FROM telemetry.series WHERE name ILIKE '%' || $1 || '%' ESCAPE '\' ORDER BY name LIMIT 1000");
        command.Parameters.Add(new() { Value = fragment.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken)) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>The newest point of each series written since <paramref name="since"/>, optionally only one agent's series.</summary>
    public async Task<IReadOnlyList<SeriesPoints>> LatestAsync(DateTimeOffset since, string? agentId, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT s.name, s.labels::text, p.time, p.value
            FROM telemetry.series s
            CROSS JOIN LATERAL (
                SELECT time, value FROM telemetry.samples WHERE series_id = s.series_id AND time > $1 ORDER BY time DESC LIMIT 1) p
            WHERE $2::text IS NULL OR s.agent_id = $2
            ORDER BY s.name, s.series_id
            LIMIT $3
            """);
        command.Parameters.Add(new() { Value = since });
        command.Parameters.Add(new() { Value = (object?)agentId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var series = new List<SeriesPoints>();
        while (await reader.ReadAsync(cancellationToken))
            series.Add(new(reader.GetString(0), JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(1)) ?? [],
                [(reader.GetFieldValue<DateTimeOffset>(2), reader.GetDouble(3))]));
        return series;
    }

    /// <summary>What is stored: series, samples (estimated), samples of the last minute, raw partitions and rollup progress.</summary>
    public sealed record StorageFigures(long Series, long SamplesEstimated, long LastMinute, int Partitions, string? OldestPartition,
        DateTimeOffset? MinutesRolledUntil, DateTimeOffset? HoursRolledUntil);

    public async Task<StorageFigures> StatsAsync(DateTimeOffset minuteAgo, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT (SELECT count(*) FROM telemetry.series),
                   (SELECT coalesce(sum(c.reltuples) FILTER (WHERE c.reltuples > 0), 0)::bigint
                      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry.samples'::regclass),
                   (SELECT count(*) FROM telemetry.samples WHERE time > $1),
                   (SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'telemetry.samples'::regclass),
                   (SELECT min(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry.samples'::regclass),
                   (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1m'),
                   (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1h')
            """);
        command.Parameters.Add(new() { Value = minuteAgo });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6));
    }
}
