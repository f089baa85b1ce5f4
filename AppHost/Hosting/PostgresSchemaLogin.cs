using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;

namespace Platform.AppHost.Hosting;

/// <summary>
/// A service's own login to the platform's database: the role <c>platform_&lt;schema&gt;</c>, which owns that one schema
/// and has no other right than to connect (no superuser, no other schema, no new schemas or databases). A stolen
/// service environment is worth one schema, not the cluster. Its password is made at each start and lives only in the
/// service's environment. With an external database (<c>ConnectionStrings__platformdb</c>) its connection string is
/// used as given, and giving each service its own role is the operator's part.
/// </summary>
public sealed partial class PostgresSchemaLogin : IResourceWithConnectionString
{
    readonly string password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    internal PostgresSchemaLogin(PostgresDatabaseResource database, string schema)
    {
        if (!SchemaName().IsMatch(schema)) throw new AppHostException($"schema name '{schema}' must be lower-case letters and underscores");
        Database = database;
        Schema = schema;
    }

    public PostgresDatabaseResource Database { get; }
    public string Schema { get; }
    public string Role => $"platform_{Schema}";

    /// <summary>The database's name: services read <c>ConnectionStrings__platformdb</c> whoever they log in as.</summary>
    public string Name => Database.Name;

    public string ConnectionString => Database.IsExternal
        ? Database.ConnectionString
        : new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = Role, Password = password }.ConnectionString;

    /// <summary>
    /// Makes the role (or gives it this start's password), the schema its own, and hands it whatever an earlier run made
    /// in that schema as the superuser. Role, schema and database names are checked identifiers and the password is hex:
    /// these statements take no parameters.
    /// </summary>
    public async Task EnsureAsync(NpgsqlConnection superuser, CancellationToken cancellationToken = default)
    {
        var database = Database.Name.Replace("\"", "\"\"");
        // Names resolve in the catalog only: the schemas below belong to roles that could plant look-alikes.
        await using (var path = new NpgsqlCommand("SET search_path = pg_catalog, pg_temp", superuser))
            await path.ExecuteNonQueryAsync(cancellationToken);
        await using (var role = new NpgsqlCommand($"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Role}') THEN CREATE ROLE {Role}; END IF;
            END $$;
            """, superuser))
            await role.ExecuteNonQueryAsync(cancellationToken);
        // On its own: a statement that fails is written to the server's log, and no other may carry the password there.
        await using (var login = new NpgsqlCommand($"ALTER ROLE {Role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '{password}'", superuser))
            await login.ExecuteNonQueryAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            REVOKE ALL ON DATABASE "{database}" FROM PUBLIC;
            REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
            REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {Role};
            CREATE SCHEMA IF NOT EXISTS {Schema} AUTHORIZATION {Role};
            ALTER SCHEMA {Schema} OWNER TO {Role};
            DO $$ DECLARE item record; BEGIN
              FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
                WHERE c.relnamespace = '{Schema}'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> '{Role}'::regrole
              LOOP EXECUTE format('ALTER TABLE %s OWNER TO {Role}', item.name); END LOOP;
              FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
                WHERE c.relnamespace = '{Schema}'::regnamespace AND c.relkind = 'S' AND c.relowner <> '{Role}'::regrole
                  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
              LOOP EXECUTE format('ALTER SEQUENCE %s OWNER TO {Role}', item.name); END LOOP;
              FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                WHERE p.pronamespace = '{Schema}'::regnamespace AND p.proowner <> '{Role}'::regrole
              LOOP EXECUTE format('ALTER ROUTINE %s OWNER TO {Role}', item.name); END LOOP;
            END $$;
            """, superuser);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [GeneratedRegex("^[a-z_]+$")]
    private static partial Regex SchemaName();
}
