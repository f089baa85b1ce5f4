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
}
