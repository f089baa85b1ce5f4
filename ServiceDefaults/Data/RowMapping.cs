using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// How Dapper maps the platform's rows: by column name (<c>workload_id</c> fills <c>WorkloadId</c>), <c>timestamptz</c>
/// as <see cref="DateTimeOffset"/> in UTC, and <c>jsonb</c> string maps as <see cref="Dictionary{TKey,TValue}"/>.
/// Set once per process, before the first query (a module initializer, so no store can run without it).
/// </summary>
public static class RowMapping
{
    static int configured;

    // Dapper's maps are process-wide: configuring them when this assembly loads means no query can run unmapped.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        if (Interlocked.Exchange(ref configured, 1) == 1) return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new UtcTimestampHandler());
        SqlMapper.AddTypeHandler(new JsonMapHandler());
    }

    /// <summary>Runs <paramref name="sql"/> on a pooled connection and maps every row by column name.</summary>
    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this NpgsqlDataSource db, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return [.. await connection.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))];
    }

    /// <summary>The single row <paramref name="sql"/> returns, or default when it returns none.</summary>
    public static async Task<T?> QuerySingleOrDefaultAsync<T>(this NpgsqlDataSource db, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    /// <summary>Runs <paramref name="sql"/> on a pooled connection; the number of rows it changed.</summary>
    public static async Task<int> ExecuteAsync(this NpgsqlDataSource db, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    /// <summary>The same inside a caller's transaction.</summary>
    public static CommandDefinition In(this NpgsqlTransaction transaction, string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset offset => offset,
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            _ => throw new DataException($"Cannot read {value.GetType().Name} as a timestamp."),
        };

        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.Value = value.ToUniversalTime();
            if (parameter is NpgsqlParameter npgsql) npgsql.NpgsqlDbType = NpgsqlDbType.TimestampTz;
        }
    }

    sealed class JsonMapHandler : SqlMapper.TypeHandler<Dictionary<string, string>>
    {
        public override Dictionary<string, string> Parse(object value) =>
            JsonSerializer.Deserialize<Dictionary<string, string>>((string)value) ?? [];

        public override void SetValue(IDbDataParameter parameter, Dictionary<string, string>? value)
        {
            parameter.Value = value is null ? DBNull.Value : JsonSerializer.Serialize(value);
            if (parameter is NpgsqlParameter npgsql) npgsql.NpgsqlDbType = NpgsqlDbType.Jsonb;
        }
    }
}
