using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// Applies a service's embedded, numbered SQL files (<c>Schema/0001_name.sql</c>) once each, in order, before the
/// service serves. Replicas starting together are serialized by a PostgreSQL advisory lock; each file runs in its own
/// transaction together with its row in <c>schema.schema_migrations</c>, so a failed file leaves nothing behind.
/// </summary>
public sealed partial class SchemaUpgrader(NpgsqlDataSource dataSource, SchemaScripts migrations, ILogger<SchemaUpgrader> logger) : IHostedService
{
    const long LockKey = 0x706C6174666F726D; // "platform"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var schema = migrations.Schema;
        if (!SchemaName().IsMatch(schema))
            throw new InvalidOperationException($"Schema name '{schema}' must be lower-case letters and underscores.");

        var files = ReadScripts();
        await using var connection = await OpenWithRetryAsync(cancellationToken);
        await Execute(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            // A service logged in as its schema's owner may not create schemas (the AppHost made this one for it), and
            // PostgreSQL checks that right before it looks whether the schema exists: so look first.
            await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_namespace WHERE nspname = $1", connection) { Parameters = { new() { Value = schema } } })
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                    await Execute(connection, null, $"CREATE SCHEMA {schema}", cancellationToken);
            await Execute(connection, null, $"""
                CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now());
                """, cancellationToken);

            var applied = new HashSet<int>();
            await using (var command = new NpgsqlCommand($"SELECT version FROM {schema}.schema_migrations", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                    applied.Add(reader.GetInt32(0));

            foreach (var file in files.Where(f => !applied.Contains(f.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, transaction, file.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand(
                    $"INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = file.Version });
                    record.Parameters.Add(new() { Value = file.Name });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Schema}/{Version:D4} {Name}", schema, file.Version, file.Name);
            }
        }
        finally
        {
            await Execute(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    IReadOnlyList<MigrationFile> ReadScripts()
    {
        var files = new List<MigrationFile>();
        foreach (var resource in migrations.Source.GetManifestResourceNames())
        {
            var match = MigrationResource().Match(resource);
            if (!match.Success) continue;
            using var stream = migrations.Source.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            files.Add(new(int.Parse(match.Groups["version"].Value), match.Groups["name"].Value, reader.ReadToEnd()));
        }
        var duplicate = files.GroupBy(f => f.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two migrations of {migrations.Schema} share version {duplicate.Key}.");
        return [.. files.OrderBy(f => f.Version)];
    }

    async Task<NpgsqlConnection> OpenWithRetryAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await dataSource.OpenConnectionAsync(cancellationToken);
            }
            catch (NpgsqlException ex) when (ex.IsTransient && attempt < 20)
            {
                logger.LogWarning("PostgreSQL not reachable yet (attempt {Attempt}): {Reason}", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    sealed record MigrationFile(int Version, string Name, string Sql);

    [GeneratedRegex("^[a-z_]+$")]
    private static partial Regex SchemaName();

    [GeneratedRegex(@"\.Schema\.(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex MigrationResource();
}
