using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.TestSupport;

namespace Platform.ServiceDefaults.Tests;

/// <summary>Schema scripts against a real PostgreSQL: each file once, in order, even with replicas starting together.</summary>
public sealed class SchemaUpgraderTests
{
    static SchemaUpgrader Migrator(NpgsqlDataSource db) =>
        new(db, new SchemaScripts("widgets_test", typeof(SchemaUpgraderTests).Assembly), NullLogger<SchemaUpgrader>.Instance);

    static async Task<List<int>> AppliedVersionsAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("SELECT version FROM widgets_test.schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync()) versions.Add(reader.GetInt32(0));
        return versions;
    }

    [Fact]
    public async Task Every_file_is_applied_once_in_order_and_a_second_start_changes_nothing()
    {
        await using var db = NpgsqlDataSource.Create(await TestInfrastructure.CreateDatabaseAsync("migrate"));

        await Migrator(db).StartAsync(CancellationToken.None);
        await Migrator(db).StartAsync(CancellationToken.None);

        Assert.Equal([1, 2], await AppliedVersionsAsync(db));
        await using var insert = db.CreateCommand("INSERT INTO widgets_test.widgets (id) VALUES (1) RETURNING colour");
        Assert.Equal("blue", await insert.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Replicas_starting_together_apply_each_file_once()
    {
        await using var db = NpgsqlDataSource.Create(await TestInfrastructure.CreateDatabaseAsync("migrate"));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Migrator(db).StartAsync(CancellationToken.None)));

        Assert.Equal([1, 2], await AppliedVersionsAsync(db));
    }
}
