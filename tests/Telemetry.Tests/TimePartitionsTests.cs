using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Platform.Telemetry.Storage;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Time partitions of samples and rollups over a real PostgreSQL, with the clock moved by the test.</summary>
public sealed class TimePartitionsTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;
    NpgsqlDataSource db = null!;

    public async Task InitializeAsync()
    {
        host = await ServiceHost<Program>.StartAsync();
        db = NpgsqlDataSource.Create(host.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await db.DisposeAsync();
        await host.DisposeAsync();
    }

    TimePartitions Partitions(FakeTimeProvider clock) =>
        new(db, Options.Create(new RetentionOptions { Raw = TimeSpan.FromDays(30), Minute = TimeSpan.FromDays(60), Hour = TimeSpan.FromDays(400) }), clock, NullLogger<TimePartitions>.Instance);

    async Task<List<string>> PartitionNamesAsync(string table = "samples")
    {
        await using var command = db.CreateCommand($"""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'telemetry.{table}'::regclass ORDER BY 1
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    [Fact]
    public async Task Partitions_reach_two_days_ahead_and_expired_days_are_dropped_with_their_samples()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 3, 10, 0, 30, 0, TimeSpan.Zero));
        await Partitions(clock).MaintainAsync(CancellationToken.None);

        // 00:30 accepts samples from an hour ago, so the previous day has a partition too.
        Assert.Superset(new HashSet<string> { "samples_p20310309", "samples_p20310310", "samples_p20310311", "samples_p20310312" }, (await PartitionNamesAsync()).ToHashSet());
        await using (var insert = db.CreateCommand("INSERT INTO telemetry.samples VALUES (1, '2031-03-09 23:59:00+00', 1), (1, '2031-03-12 12:00:00+00', 2)"))
            await insert.ExecuteNonQueryAsync();

        clock.Advance(TimeSpan.FromDays(31));
        var dropped = await Partitions(clock).MaintainAsync(CancellationToken.None);

        Assert.Contains("samples_p20310309", dropped);
        Assert.DoesNotContain("samples_p20310312", dropped);
        var names = await PartitionNamesAsync();
        Assert.DoesNotContain("samples_p20310309", names);
        Assert.Contains("samples_p20310412", names);
        await using var remaining = db.CreateCommand("SELECT array_agg(value ORDER BY value) FROM telemetry.samples WHERE series_id = 1");
        var values = (double[])(await remaining.ExecuteScalarAsync())!;
        Assert.Equal(new[] { 2.0 }, values);
    }

    [Fact]
    public async Task The_batch_cursors_of_agent_runs_silent_for_longer_than_a_late_sample_is_accepted_are_forgotten()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2033, 5, 1, 12, 0, 0, TimeSpan.Zero));
        await using (var insert = db.CreateCommand("""
            INSERT INTO telemetry.batch_cursors VALUES ('pruned-agent', 1, 10, '2033-05-01 09:00:00+00'), ('pruned-agent', 2, 20, '2033-05-01 11:30:00+00')
            """))
            await insert.ExecuteNonQueryAsync();

        await Partitions(clock).MaintainAsync(CancellationToken.None);

        await using var left = db.CreateCommand("SELECT array_agg(epoch) FROM telemetry.batch_cursors WHERE agent_id = 'pruned-agent'");
        Assert.Equal(new[] { 2L }, (long[])(await left.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Replicas_maintaining_together_create_each_partition_once()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2032, 7, 1, 12, 0, 0, TimeSpan.Zero));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Partitions(clock).MaintainAsync(CancellationToken.None)));

        Assert.Equal(3, (await PartitionNamesAsync()).Count(n => n.StartsWith("samples_p20320")));
    }

    [Fact]
    public async Task Rollup_tiers_get_partitions_of_their_own_width_and_keep_them_for_their_own_retention()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2033, 1, 10, 12, 0, 0, TimeSpan.Zero));
        await Partitions(clock).MaintainAsync(CancellationToken.None);
        var minuteWeek = PartitionedTable.Minutes.PartitionName(new DateOnly(2033, 1, 10));
        var hourPeriod = PartitionedTable.Hours.PartitionName(new DateOnly(2033, 1, 10));
        Assert.Contains(minuteWeek, await PartitionNamesAsync("rollup_1m"));
        Assert.Contains(hourPeriod, await PartitionNamesAsync("rollup_1h"));

        // Past raw retention (30 days) only the raw day goes; past 60 days the minute week; the hours stay for 400 days.
        clock.Advance(TimeSpan.FromDays(40));
        var dropped = await Partitions(clock).MaintainAsync(CancellationToken.None);
        Assert.Contains("samples_p20330110", dropped);
        Assert.DoesNotContain(minuteWeek, dropped);

        clock.Advance(TimeSpan.FromDays(40));
        dropped = await Partitions(clock).MaintainAsync(CancellationToken.None);
        Assert.Contains(minuteWeek, dropped);
        Assert.DoesNotContain(hourPeriod, dropped);
        Assert.Contains(hourPeriod, await PartitionNamesAsync("rollup_1h"));
    }
}
