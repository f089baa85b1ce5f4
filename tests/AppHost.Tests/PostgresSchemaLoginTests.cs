using Npgsql;
using Platform.AppHost.Hosting;
using Platform.TestSupport;

namespace Platform.AppHost.Tests;

/// <summary>
/// A service's own login, made on a database an earlier run filled as the superuser: the schema and everything in it
/// (tables, partitions, sequences, functions) become the service's, so it can go on upgrading its schema, while the
/// role stays unable to reach any other schema.
/// </summary>
public sealed class PostgresSchemaLoginTests
{
    [Fact]
    public async Task A_schema_filled_by_the_superuser_is_handed_to_the_services_role_and_no_other_is()
    {
        var connectionString = await TestInfrastructure.CreateDatabaseAsync("schemalogin");
        var database = new PostgresDatabaseResource(new NpgsqlConnectionStringBuilder(connectionString).Database!, new PostgresServerResource("postgres", external: true), null);
        // Roles belong to the whole server, which the suite shares: a schema name of this test's own.
        var schema = "legacy_" + string.Concat(Guid.NewGuid().ToString("N").Where(char.IsAsciiLetter));
        var login = database.Schema(schema);
        await using var superuser = new NpgsqlConnection(connectionString);
        await superuser.OpenAsync();
        await ExecuteAsync(superuser, $"""
            CREATE SCHEMA {schema};
            CREATE TABLE {schema}.items (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
            CREATE TABLE {schema}.items_2026 PARTITION OF {schema}.items FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE {schema}.counters (id serial PRIMARY KEY);
            CREATE SEQUENCE {schema}.tickets;
            CREATE FUNCTION {schema}.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE SCHEMA {schema}_neighbour;
            CREATE TABLE {schema}_neighbour.secrets (value text);
            """);

        try
        {
            await login.EnsureAsync(superuser);
            await login.EnsureAsync(superuser);  // every start does it again
            await AssertHandedOverAsync(superuser, schema, login.Role);
        }
        finally
        {
            await ExecuteAsync(superuser, $"RESET ROLE; DROP SCHEMA IF EXISTS {schema} CASCADE; DROP SCHEMA {schema}_neighbour CASCADE; DROP OWNED BY {login.Role}; DROP ROLE {login.Role}");
        }
    }

    static async Task AssertHandedOverAsync(NpgsqlConnection superuser, string schema, string role)
    {

        Assert.Equal(0L, await ScalarAsync<long>(superuser, $"""
            SELECT count(*) FROM pg_class WHERE relnamespace = '{schema}'::regnamespace AND relowner <> '{role}'::regrole
            """));
        await ExecuteAsync(superuser, $"SET ROLE {role}");
        await ExecuteAsync(superuser, $"""
            ALTER TABLE {schema}.items ADD COLUMN note text;
            INSERT INTO {schema}.items (at) VALUES ('2026-06-01');
            CREATE TABLE {schema}.items_2027 PARTITION OF {schema}.items FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
            SELECT nextval('{schema}.tickets');
            CREATE OR REPLACE FUNCTION {schema}.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
            """);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(superuser, $"SELECT * FROM {schema}_neighbour.secrets"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
