using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Telemetry.Storage;

/// <summary>How long raw samples are kept, and how often partitions are maintained.</summary>
public sealed class RetentionOptions
{
    public TimeSpan Raw { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Keeps <c>telemetry.samples</c> partitioned by UTC day: partitions exist from the oldest accepted timestamp to two
/// days ahead, and a partition whose whole day lies past retention is dropped. The first pass runs before the service
/// serves, so ingestion never meets a missing partition. Replicas take turns through a transaction-scoped advisory lock.
/// </summary>
public sealed class SamplePartitions(NpgsqlDataSource db, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<SamplePartitions> logger)
    : BackgroundService
{
    const long LockKey = 0x74656C656D657472; // "telemetr"
    const int DaysAhead = 2;

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
                logger.LogError(ex, "Sample partition maintenance failed; retrying in {Interval}", options.Value.MaintenanceInterval);
            }
        }
    }

    /// <summary>Creates the missing partitions and drops the expired ones; returns the days of the partitions it dropped.</summary>
    public async Task<IReadOnlyList<DateOnly>> MaintainAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var first = DateOnly.FromDateTime((now - Ingestion.SampleBatchValidator.MaxAge).UtcDateTime);
        var last = DateOnly.FromDateTime(now.UtcDateTime).AddDays(DaysAhead);
        var expiredBefore = DateOnly.FromDateTime((now - options.Value.Raw).UtcDateTime);

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);

        var existing = await ExistingDaysAsync(connection, transaction, cancellationToken);
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            if (existing.Contains(day) || day < expiredBefore) continue;
            await Execute(connection, transaction, $"""
                CREATE TABLE IF NOT EXISTS telemetry.{PartitionName(day)} PARTITION OF telemetry.samples
                FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')
                """, cancellationToken);
        }

        // A day's partition goes once its end is past retention: a sample is kept at least as long as promised.
        var dropped = existing.Where(day => day.AddDays(1) <= expiredBefore).Order().ToList();
        foreach (var day in dropped)
            await Execute(connection, transaction, $"DROP TABLE telemetry.{PartitionName(day)}", cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        if (dropped.Count > 0)
            logger.LogInformation("Dropped {Count} expired sample partitions, the newest of {Day}", dropped.Count, dropped[^1]);
        return dropped;
    }

    public static string PartitionName(DateOnly day) => $"samples_p{day:yyyyMMdd}";

    static async Task<HashSet<DateOnly>> ExistingDaysAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT child.relname FROM pg_inherits
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_namespace ns ON ns.oid = parent.relnamespace
            WHERE ns.nspname = 'telemetry' AND parent.relname = 'samples'
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var days = new HashSet<DateOnly>();
        while (await reader.ReadAsync(cancellationToken))
            if (DateOnly.TryParseExact(reader.GetString(0).Replace("samples_p", ""), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                days.Add(day);
        return days;
    }

    static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
