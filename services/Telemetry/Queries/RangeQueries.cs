using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Queries;

/// <summary>
/// Runs range queries in PostgreSQL: buckets are <c>date_bin(step, time, start)</c>; groups are the JSON object of the
/// series' <c>by</c> labels. Counter increases come from each sample's difference to the one before it in its series
/// (a drop is a reset: the new value counts whole), looking back one step so the first bucket has its predecessor.
/// avg, min, max, sum and count read the rollup tier the query chose (see <see cref="RangeQuery.Tier"/>).
/// A query runs for at most <see cref="RangeQueryOptions.Timeout"/> (then DEADLINE_EXCEEDED, and PostgreSQL stops it)
/// and returns at most <see cref="RangeQueryOptions.MaxPoints"/> points, counted as they are read (then
/// INVALID_ARGUMENT saying how to narrow it): one careless query cannot hold the database or the service's memory.
/// </summary>
public sealed class RangeQueries(NpgsqlDataSource db, Microsoft.Extensions.Options.IOptions<RangeQueryOptions> options)
{
    const string LabelFilter = "\n      AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) m(k, v) WHERE labels ->> m.k IS DISTINCT FROM m.v)";

    // Without label filters the filter is left out: the planner cannot estimate it and would plan for a handful of series.
    static string Matched(RangeQuery query) => $$"""
        WITH matched AS (
            SELECT series_id,
                   coalesce((SELECT jsonb_object_agg(k, labels -> k) FROM unnest($7::text[]) k WHERE labels ? k), '{}'::jsonb) AS grp
            FROM telemetry.series
            WHERE name = $1{{(query.Match.Count == 0 ? "" : LabelFilter)}})
        """;

    public async Task<IReadOnlyList<SeriesPoints>> RunAsync(RangeQuery query, CancellationToken cancellationToken)
    {
        var (hoursUntil, minutesUntil) = query.Tier is null ? (query.Start, query.Start) : await TierBoundsAsync(query, cancellationToken);
        await using var command = db.CreateCommand(Matched(query) + "\n" + Aggregate(query));
        command.CommandTimeout = (int)Math.Ceiling(options.Value.Timeout.TotalSeconds);
        command.Parameters.Add(new() { Value = query.Name });
        command.Parameters.Add(new() { Value = query.Match.Select(m => m.Label).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = query.Match.Select(m => m.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = query.Start });
        command.Parameters.Add(new() { Value = query.End });
        command.Parameters.Add(new() { Value = query.Step });
        command.Parameters.Add(new() { Value = query.By.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = hoursUntil });
        command.Parameters.Add(new() { Value = minutesUntil });

        var groups = new List<SeriesPoints>();
        string? current = null;
        long points = 0;
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (++points > options.Value.MaxPoints)
                    throw new InvalidFieldException("step_ms",
                        $"the result would hold more than {options.Value.MaxPoints} points (groups × buckets); match fewer series, group by fewer labels or use a longer step");
                Read(reader);
            }
        }
        catch (NpgsqlException ex) when (ex.InnerException is TimeoutException || ex is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } && !cancellationToken.IsCancellationRequested)
        {
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.DeadlineExceeded,
                $"the query ran longer than {options.Value.Timeout.TotalSeconds:0} s and was stopped; match fewer series or query a shorter window"));
        }
        return groups;

        void Read(NpgsqlDataReader reader)
        {
            var group = reader.GetString(0);
            if (group != current)
            {
                groups.Add(new(query.Name, JsonSerializer.Deserialize<Dictionary<string, string>>(group) ?? [], []));
                current = group;
            }
            groups[^1].Points.Add((reader.GetFieldValue<DateTimeOffset>(1), reader.GetDouble(2)));
        }
    }

    static string Aggregate(RangeQuery query) => query.Aggregation switch
    {
        // Per series and bucket first (integer keys, cheap), then per group: avg, min, max, count and sum combine
        // exactly from the per-series partial aggregates — which is also what the rollup tiers store.
        "avg" or "min" or "max" or "count" or "sum" => $"""
            {PerSeries(query.Tier)}
            SELECT m.grp::text, s.bucket, {Combine(query.Aggregation)}
            FROM per_series s JOIN matched m ON m.series_id = s.series_id
            GROUP BY m.grp, s.bucket ORDER BY m.grp::text, s.bucket
            """,
        "rate" or "increase" => $"""
            SELECT grp::text, bucket, sum(increase){(query.Aggregation == "rate" ? " / extract(epoch FROM $6::interval)" : "")}
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
            SELECT m.grp::text, date_bin($6, p.time, $4) AS bucket, {Percentile(query.Aggregation)}
            FROM matched m JOIN telemetry.samples p ON p.series_id = m.series_id
            WHERE p.time >= $4 AND p.time < $5
            GROUP BY m.grp, bucket ORDER BY m.grp::text, bucket
            """,
    };

    /// <summary>
    /// Per series and bucket: count, sum, min and max. From raw samples only, or — when a tier serves the query — from the
    /// hour rollups up to the hour watermark, then the minute rollups up to the minute watermark, then raw samples for
    /// the rest, so the newest buckets are complete too. Each part covers whole tier buckets inside [start, end). Hours
    /// holding late samples the rollup job has not re-rolled yet (<c>telemetry.rollup_dirty</c>) are read raw for their
    /// series, so a back-filled sample counts from the moment it is committed.
    /// </summary>
    static string PerSeries(RollupTier? tier)
    {
        if (tier is null) return ", per_series AS (" + Raw("$4", "$5", "") + ")";

        var hours = tier == RollupTier.Hour ? Rollup("rollup_1h", "$4", "$8") + "\nUNION ALL\n" : "";
        return $"""
            , late AS (
                SELECT DISTINCT d.series_id, date_bin('1 hour', l.from_time, {RollupTier.SqlOrigin}) AS from_hour,
                       date_bin('1 hour', l.to_time, {RollupTier.SqlOrigin}) + interval '1 hour' AS until_hour
                FROM telemetry.rollup_dirty l CROSS JOIN LATERAL unnest(l.series_ids) d(series_id)
                WHERE d.series_id IN (SELECT series_id FROM matched)),
            per_series AS (
                SELECT series_id, bucket, sum(total) AS total, sum(samples) AS samples, min(lowest) AS lowest, max(highest) AS highest
                FROM (
                    {hours}{Rollup("rollup_1m", "$8", "$9")}
                    UNION ALL
                    {Raw("$9", "$5", "")}
                    UNION ALL
                    {Raw("$4", "$9", "AND EXISTS (SELECT 1 FROM late l WHERE l.series_id = p.series_id AND p.time >= l.from_hour AND p.time < l.until_hour)")}
                    ) parts
                GROUP BY series_id, bucket)
            """;
    }

    /// <summary>
    /// Where the hour part ends and the minute part ends ($8, $9): at the tier's watermark, but never past the last
    /// whole tier bucket before the window's end. Read before the query: if the job moves on meanwhile, the buckets
    /// in between are read raw, which is still exact.
    /// </summary>
    async Task<(DateTimeOffset HoursUntil, DateTimeOffset MinutesUntil)> TierBoundsAsync(RangeQuery query, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1m'), (SELECT rolled_until FROM telemetry.rollup_progress WHERE tier = '1h')
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var minutes = reader.IsDBNull(0) ? DateTimeOffset.MinValue : reader.GetFieldValue<DateTimeOffset>(0);
        var hours = reader.IsDBNull(1) ? DateTimeOffset.MinValue : reader.GetFieldValue<DateTimeOffset>(1);

        var hoursUntil = query.Tier == RollupTier.Hour ? Max(query.Start, Min(RollupTier.Hour.Floor(query.End), hours)) : query.Start;
        return (hoursUntil, Max(hoursUntil, Min(RollupTier.Minute.Floor(query.End), minutes)));
    }

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    static string Raw(string from, string until, string condition) => $"""
        SELECT p.series_id, date_bin($6, p.time, $4) AS bucket,
               sum(p.value) AS total, count(*)::float8 AS samples, min(p.value) AS lowest, max(p.value) AS highest
        FROM telemetry.samples p
        WHERE p.series_id IN (SELECT series_id FROM matched) AND p.time >= {from} AND p.time < {until} {condition}
        GROUP BY p.series_id, bucket
        """;

    static string Rollup(string table, string from, string until) => $"""
        SELECT r.series_id, date_bin($6, r.bucket, $4) AS bucket, r.sum AS total, r.count::float8 AS samples, r.min AS lowest, r.max AS highest
        FROM telemetry.{table} r
        WHERE r.series_id IN (SELECT series_id FROM matched) AND r.bucket >= {from} AND r.bucket < {until}
          AND NOT EXISTS (SELECT 1 FROM late l WHERE l.series_id = r.series_id AND r.bucket >= l.from_hour AND r.bucket < l.until_hour)
        """;

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

/// <summary>Configuration under <c>Telemetry:Queries</c>.</summary>
public sealed class RangeQueryOptions
{
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    public long MaxPoints { get; set; } = 1_000_000;
}
