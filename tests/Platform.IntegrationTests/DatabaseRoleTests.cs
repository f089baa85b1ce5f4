using Npgsql;

namespace Platform.IntegrationTests;

/// <summary>
/// What a service's database credentials are worth to whoever steals them from its environment: its own schema, and
/// nothing else — no other service's tables, no new schema, no superuser, no other database.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class DatabaseRoleTests(PlatformFixture fixture)
{
    static readonly Dictionary<string, string> SchemaOf = new()
    {
        ["compute"] = "compute", ["telemetry"] = "telemetry", ["scheduler"] = "scheduler", ["tokenomics"] = "tokenomics",
        ["privacy"] = "privacy", ["gateway"] = "identity",
    };

    [Fact]
    public void Every_service_logs_in_as_the_owner_of_its_own_schema_never_as_the_superuser()
    {
        foreach (var (service, schema) in SchemaOf)
        {
            var login = new NpgsqlConnectionStringBuilder(fixture.Platform.EnvironmentOf(service)["ConnectionStrings__platformdb"]);
            Assert.Equal($"platform_{schema}", login.Username);
        }
    }

    [Fact]
    public async Task A_stolen_service_login_reaches_its_own_schema_and_nothing_else()
    {
        var stolen = fixture.Platform.EnvironmentOf("compute")["ConnectionStrings__platformdb"];
        await using var connection = new NpgsqlConnection(stolen);
        await connection.OpenAsync();

        Assert.True(await Scalar<long>(connection, "SELECT count(*) FROM compute.nodes") >= 0);
        Assert.False(await Scalar<bool>(connection, "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user"));
        foreach (var sql in new[]
        {
            "SELECT count(*) FROM telemetry.series",
            "SELECT password_hash FROM identity.users",
            "CREATE TABLE telemetry.planted (id int)",
            "CREATE SCHEMA planted",
            "CREATE ROLE planted",
            "SET ROLE platform_identity",
        })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => Scalar<object>(connection, sql));
            Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {refused.SqlState} {refused.MessageText}");
        }

        await using var elsewhere = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(stolen) { Database = "postgres" }.ConnectionString);
        var other = await Assert.ThrowsAsync<PostgresException>(elsewhere.OpenAsync);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, other.SqlState);
    }

    static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
