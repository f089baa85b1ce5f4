using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>The platform database: an NpgsqlDataSource, its health check, and the service's schema migrations.</summary>
public static class DatabaseExtensions
{
    /// <summary>
    /// Reads the connection string the way Aspire.Npgsql does (<c>ConnectionStrings:{name}</c>) and applies the
    /// numbered SQL files embedded in <typeparamref name="TService"/>'s assembly to <paramref name="schema"/> at start.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformDatabase<TService>(this IHostApplicationBuilder builder, string schema, string connectionName = "platformdb")
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? builder.Configuration[$"Aspire:Npgsql:ConnectionString"]
            ?? throw new InvalidOperationException(
                $"No connection string 'ConnectionStrings:{connectionName}': run through the AppHost or set ConnectionStrings__{connectionName}.");

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(Bounded(connectionString, builder.Configuration)) { Name = connectionName }.Build());
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgres");
        builder.Services.AddSingleton(new SchemaScripts(schema, typeof(TService).Assembly));
        builder.Services.AddHostedService<SchemaUpgrader>();
        return builder;
    }

    /// <summary>
    /// What no service may exceed unless its connection string says otherwise: a pool of 30 connections
    /// (<c>Database:MaxPoolSize</c>; six services stay well under the AppHost's PostgreSQL max_connections of 300, where
    /// Npgsql's default of 100 each would not), and a server-side statement_timeout of 5 minutes
    /// (<c>Database:StatementTimeout</c>) so that a runaway statement ends. Queries users can shape have their own,
    /// shorter timeouts.
    /// </summary>
    static string Bounded(string connectionString, IConfiguration configuration)
    {
        var bounded = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Pool Size", StringComparison.OrdinalIgnoreCase))
            bounded.MaxPoolSize = configuration.GetValue("Database:MaxPoolSize", 30);
        if (bounded.Options?.Contains("statement_timeout", StringComparison.Ordinal) != true)
        {
            var timeout = configuration.GetValue("Database:StatementTimeout", TimeSpan.FromMinutes(5));
            bounded.Options = $"{bounded.Options} -c statement_timeout={(long)timeout.TotalMilliseconds}".Trim();
        }
        return bounded.ConnectionString;
    }
}

/// <summary>Where a service's migrations come from and which schema they build.</summary>
public sealed record SchemaScripts(string Schema, Assembly Source);
