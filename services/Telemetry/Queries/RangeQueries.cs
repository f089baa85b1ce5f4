using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Queries;

/// <summary>
/// Runs range queries in PostgreSQL: buckets are <c>date_bin(step, time, start)</c>; groups are the JSON object of the
/// series' <c>by</c> labels. Counter increases come from each sample's difference to the one before it in its series
/// (a drop is a reset: the new value counts whole), looking back one step so the first bucket has its predecessor.
/// </summary>
public sealed class RangeQueries(NpgsqlDataSource db)
{
    const string Matched = """
        WITH matched AS (
            SELECT series_id,
                   coalesce((SELECT jsonb_object_agg(k, labels -> k) FROM unnest($7::text[]) k WHERE labels ? k), '{}'::jsonb) AS grp
            FROM telemetry.series
            WHERE name = $1
              AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) m(k, v) WHERE labels ->> m.k IS DISTINCT FROM m.v))
        """;

    public async Task<IReadOnlyList<SeriesPoints>> RunAsync(RangeQuery query, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(Matched + "\n" + Aggregate(query.Aggregation));
        command.Parameters.Add(new() { Value = query.Name });
        command.Parameters.Add(new() { Value = query.Match.Select(m => m.Label).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = query.Match.Select(m => m.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = query.Start });
        command.Parameters.Add(new() { Value = query.End });
        command.Parameters.Add(new() { Value = query.Step });
        command.Parameters.Add(new() { Value = query.By.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

        var groups = new List<SeriesPoints>();
        string? current = null;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var group = reader.GetString(0);
            if (group != current)
            {
                groups.Add(new(query.Name, JsonSerializer.Deserialize<Dictionary<string, string>>(group) ?? [], []));
                current = group;
            }
            groups[^1].Points.Add((reader.GetFieldValue<DateTimeOffset>(1), reader.GetDouble(2)));
        }
        return groups;
    }

    static string Aggregate(string aggregation) => aggregation switch
    {
        // Per series and bucket first (integer keys, cheap), then per group: avg, min, max, count and sum combine
        // exactly from the per-series partial aggregates.
        "avg" or "min" or "max" or "count" or "sum" => $"""
            , per_series AS (
                SELECT p.series_id, date_bin($6, p.time, $4) AS bucket,
                       sum(p.value) AS total, count(*) AS samples, min(p.value) AS lowest, max(p.value) AS highest
                FROM telemetry.samples p
                WHERE p.series_id IN (SELECT series_id FROM matched) AND p.time >= $4 AND p.time < $5
                GROUP BY p.series_id, bucket)
            SELECT m.grp::text, s.bucket, {Combine(aggregation)}
            FROM per_series s JOIN matched m ON m.series_id = s.series_id
            GROUP BY m.grp, s.bucket ORDER BY m.grp::text, s.bucket
            """,
        "rate" or "increase" => $"""
            SELECT grp::text, bucket, sum(increase){(aggregation == "rate" ? " / extract(epoch FROM $6::interval)" : "")}
            FROM (SELECT m.grp, m.series_id, date_bin($6, d.time, $4) AS bucket,
                         sum(CASE WHEN d.previous IS NULL THEN 0 WHEN d.value < d.previous THEN d.value ELSE d.value - d.previous END) AS increase
                  FROM matched m
                  CROSS JOIN LATERAL (
                      SELECT time, value, lag(value) OVER (ORDER BY time) AS previous
                      FROM telemetry.samples
                      WHERE series_id = m.series_id AND time >= $4 - $6::interval AND time < $5) d
                  WHERE d.time >= $4
                  GROUP BY m.grp, m.series_id, bucket) per_series
            GROUP BY grp, bucket ORDER BY grp::text, bucket
            """,
        // Percentiles need every raw value of the group.
        _ => $"""
            SELECT m.grp::text, date_bin($6, p.time, $4) AS bucket, {Percentile(aggregation)}
            FROM matched m JOIN telemetry.samples p ON p.series_id = m.series_id
            WHERE p.time >= $4 AND p.time < $5
            GROUP BY m.grp, bucket ORDER BY m.grp::text, bucket
            """,
    };

    static string Combine(string aggregation) => aggregation switch
    {
        "avg" => "sum(s.total) / sum(s.samples)",
        "min" => "min(s.lowest)",
        "max" => "max(s.highest)",
        "count" => "sum(s.samples)::float8",
        "sum" => "sum(s.total / s.samples)",
        _ => throw new ArgumentOutOfRangeException(nameof(aggregation), aggregation, "validated before"),
    };

    static string Percentile(string aggregation) => aggregation switch
    {
        "p50" => "percentile_cont(0.5) WITHIN GROUP (ORDER BY p.value)",
        "p95" => "percentile_cont(0.95) WITHIN GROUP (ORDER BY p.value)",
        "p99" => "percentile_cont(0.99) WITHIN GROUP (ORDER BY p.value)",
        _ => throw new ArgumentOutOfRangeException(nameof(aggregation), aggregation, "validated before"),
    };
}
