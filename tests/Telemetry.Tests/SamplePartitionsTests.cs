using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Platform.Telemetry.Storage;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Daily partitions over a real PostgreSQL, with the clock moved by the test.</summary>
public sealed class SamplePartitionsTests : IAsyncLifetime
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

    SamplePartitions Partitions(FakeTimeProvider clock) =>
        new(db, Options.Create(new RetentionOptions { Raw = TimeSpan.FromDays(30) }), clock, NullLogger<SamplePartitions>.Instance);

    async Task<List<string>> PartitionNamesAsync()
    {
        await using var command = db.CreateCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'telemetry.samples'::regclass ORDER BY 1
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

        Assert.Contains(new DateOnly(2031, 3, 9), dropped);
        Assert.DoesNotContain(new DateOnly(2031, 3, 12), dropped);
        var names = await PartitionNamesAsync();
        Assert.DoesNotContain("samples_p20310309", names);
        Assert.Contains("samples_p20310412", names);
        await using var remaining = db.CreateCommand("SELECT array_agg(value ORDER BY value) FROM telemetry.samples WHERE series_id = 1");
        var values = (double[])(await remaining.ExecuteScalarAsync())!;
        Assert.Equal(new[] { 2.0 }, values);
    }

    [Fact]
    public async Task Replicas_maintaining_together_create_each_partition_once()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2032, 7, 1, 12, 0, 0, TimeSpan.Zero));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Partitions(clock).MaintainAsync(CancellationToken.None)));

        Assert.Equal(3, (await PartitionNamesAsync()).Count(n => n.StartsWith("samples_p20320")));
    }
}
