using System.Globalization;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Parameters;

/// <summary><c>tokenomics.parameters</c>: read at the start of whatever uses them, inside its transaction; set by executed proposals.</summary>
public sealed class ParameterStore(NpgsqlDataSource db, IConfiguration configuration, TimeProvider clock)
{
    sealed record Row
    {
        public string Name { get; init; } = "";
        public decimal Value { get; init; }
        public DateTimeOffset ChangedAt { get; init; }
        public string ChangedBy { get; init; } = "";
    }

    const string All = "SELECT name, value, changed_at, changed_by FROM tokenomics.parameters ORDER BY name";

    public async Task<ParameterValues> ReadAsync(CancellationToken cancellationToken) =>
        new((await db.QueryAsync<Row>(All, null, cancellationToken)).ToDictionary(r => r.Name, r => r.Value));

    public static async Task<ParameterValues> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        new((await connection.QueryAsync<Row>(transaction.In(All, null, cancellationToken))).ToDictionary(r => r.Name, r => r.Value));

    public async Task<IReadOnlyList<(string Name, decimal Value, DateTimeOffset ChangedAt, string ChangedBy)>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<Row>(All, null, cancellationToken)).Select(r => (r.Name, r.Value, r.ChangedAt, r.ChangedBy))];

    public static Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, decimal value, string changedBy, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(transaction.In("UPDATE tokenomics.parameters SET value = @value, changed_at = @now, changed_by = @changedBy WHERE name = @name",
            new { name, value, now, changedBy }, cancellationToken));

    /// <summary>Writes each parameter not yet stored with its genesis value: configuration's, else the default. Stored values are never overwritten.</summary>
    public async Task EnsureGenesisAsync(CancellationToken cancellationToken)
    {
        foreach (var definition in PlatformParameters.All)
        {
            var configured = configuration[$"Tokenomics:Genesis:{definition.Name}"];
            var value = configured is null ? definition.Default : decimal.Parse(configured, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (value < definition.Min || value > definition.Max)
                throw new InvalidOperationException($"Tokenomics:Genesis:{definition.Name} = {value} is outside {definition.Min}..{definition.Max}");
            await db.ExecuteAsync("INSERT INTO tokenomics.parameters (name, value, changed_at, changed_by) VALUES (@Name, @value, @now, 'genesis') ON CONFLICT (name) DO NOTHING",
                new { definition.Name, value, now = clock.GetUtcNow() }, cancellationToken);
        }
    }
}

/// <summary>The parameters as read at one moment.</summary>
public sealed class ParameterValues(IReadOnlyDictionary<string, decimal> values)
{
    public decimal this[string name] => values.TryGetValue(name, out var value) ? value : PlatformParameters.Find(name)!.Default;

    public TimeSpan Seconds(string name) => TimeSpan.FromSeconds((double)this[name]);
}
