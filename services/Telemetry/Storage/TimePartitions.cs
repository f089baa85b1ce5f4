using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Telemetry.Storage;

/// <summary>How long each tier is kept, and how often partitions are maintained.</summary>
public sealed class RetentionOptions
{
    public TimeSpan Raw { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan Minute { get; set; } = TimeSpan.FromDays(90);
    public TimeSpan Hour { get; set; } = TimeSpan.FromDays(730);
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>A table partitioned by time in partitions of a fixed number of days, kept for its tier's retention.</summary>
public sealed record PartitionedTable(string Name, int DaysPerPartition, Func<RetentionOptions, TimeSpan> Retention)
{
    public static readonly PartitionedTable Samples = new("samples", 1, o => o.Raw);
    public static readonly PartitionedTable Minutes = new("rollup_1m", 7, o => o.Minute);
    public static readonly PartitionedTable Hours = new("rollup_1h", 28, o => o.Hour);
    public static readonly PartitionedTable[] All = [Samples, Minutes, Hours];

    /// <summary>The first day of the partition holding <paramref name="day"/> (partitions align to day 0 of DateOnly).</summary>
    public DateOnly PartitionStart(DateOnly day) => day.AddDays(-(day.DayNumber % DaysPerPartition));

    public string PartitionName(DateOnly day) => $"{Name}_p{PartitionStart(day):yyyyMMdd}";
}

/// <summary>
/// Keeps the samples and rollup tables partitioned by time: partitions exist from the oldest accepted timestamp (or the
/// oldest raw partition, which rollups must be able to cover) to two days ahead, and a partition whose whole span lies
/// past its tier's retention is dropped — expiry is a DROP TABLE, never a DELETE. The first pass runs before the service
/// serves, so ingestion never meets a missing partition. Replicas take turns through a transaction-scoped advisory lock.
/// The same pass forgets the batch cursors of agent runs that sent nothing for longer than a sample is accepted late:
/// a replay they could still recognise holds samples too old to be stored anyway.
/// </summary>
public sealed class TimePartitions(NpgsqlDataSource db, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<TimePartitions> logger)
    : BackgroundService
{
    const long LockKey = 0x74656C656D657472; // "telemetr"
    const int DaysAhead = 2;
    static readonly TimeSpan IdleEpochAfter = SampleWindow.MaxAge + SampleWindow.MaxFuture + TimeSpan.FromMinutes(10);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await MaintainAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await MaintainAsync(stoppingToken);
            }
            catch (NpgsqlException ex)
            {
                logger.LogError(ex, "Partition maintenance failed; retrying in {Interval}", options.Value.MaintenanceInterval);
            }
        }
    }

    /// <summary>Creates the missing partitions and drops the expired ones; returns the names of the partitions it dropped.</summary>
    public async Task<IReadOnlyList<string>> MaintainAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var first = DateOnly.FromDateTime((now - SampleWindow.MaxAge).UtcDateTime);
        var last = DateOnly.FromDateTime(now.UtcDateTime).AddDays(DaysAhead);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);

        // Rollups are built from raw samples, so their partitions reach back as far as the raw ones do.
        var oldestRaw = (await ExistingPartitionsAsync(connection, transaction, PartitionedTable.Samples.Name, cancellationToken)).DefaultIfEmpty(first).Min();
        var dropped = new List<string>();
        foreach (var table in PartitionedTable.All)
        {
            var existing = await ExistingPartitionsAsync(connection, transaction, table.Name, cancellationToken);
            var expiredBefore = DateOnly.FromDateTime((now - table.Retention(options.Value)).UtcDateTime);
            var from = table == PartitionedTable.Samples || oldestRaw > first ? first : oldestRaw;

            for (var start = table.PartitionStart(from); start <= last; start = start.AddDays(table.DaysPerPartition))
            {
                var end = start.AddDays(table.DaysPerPartition);
                if (existing.Contains(start) || end <= expiredBefore) continue;
                await Execute(connection, transaction, $"""
                    CREATE TABLE IF NOT EXISTS telemetry.{table.PartitionName(start)} PARTITION OF telemetry.{table.Name}
                    FOR VALUES FROM ('{start:yyyy-MM-dd}') TO ('{end:yyyy-MM-dd}')
                    """, cancellationToken);
            }

            // A partition goes once its end is past retention: data is kept at least as long as promised.
            foreach (var start in existing.Where(start => start.AddDays(table.DaysPerPartition) <= expiredBefore).Order())
            {
                await Execute(connection, transaction, $"DROP TABLE telemetry.{table.PartitionName(start)}", cancellationToken);
                dropped.Add(table.PartitionName(start));
            }
        }

        await using (var forget = new NpgsqlCommand("DELETE FROM telemetry.batch_cursors WHERE updated_at < $1", connection, transaction))
        {
            forget.Parameters.Add(new() { Value = now - IdleEpochAfter });
            await forget.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (dropped.Count > 0)
            logger.LogInformation("Dropped {Count} expired partitions: {Partitions}", dropped.Count, string.Join(", ", dropped));
        return dropped;
    }

    static async Task<HashSet<DateOnly>> ExistingPartitionsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT child.relname FROM pg_inherits
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_namespace ns ON ns.oid = parent.relnamespace
            WHERE ns.nspname = 'telemetry' AND parent.relname = $1
            """, connection, transaction);
        command.Parameters.Add(new() { Value = table });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var starts = new HashSet<DateOnly>();
        while (await reader.ReadAsync(cancellationToken))
            if (DateOnly.TryParseExact(reader.GetString(0).Replace($"{table}_p", ""), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start))
                starts.Add(start);
        return starts;
    }

    static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
