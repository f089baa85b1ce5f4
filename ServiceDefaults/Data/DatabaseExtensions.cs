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

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = connectionName }.Build());
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgres");
        builder.Services.AddSingleton(new SchemaScripts(schema, typeof(TService).Assembly));
        builder.Services.AddHostedService<SchemaUpgrader>();
        return builder;
    }
}

/// <summary>Where a service's migrations come from and which schema they build.</summary>
public sealed record SchemaScripts(string Schema, Assembly Source);
