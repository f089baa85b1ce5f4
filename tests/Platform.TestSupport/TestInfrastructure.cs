using Npgsql;
using Platform.AppHost.Hosting;

namespace Platform.TestSupport;

/// <summary>
/// One real PostgreSQL server and one Garnet per test process, started with the AppHost's own resources in a
/// throw-away folder, and a fresh database for each caller. Everything stops when the test process exits.
/// </summary>
public static class TestInfrastructure
{
    static readonly Lazy<Task<Servers>> Started = new(StartAsync);

    public static async Task<string> CacheConnectionStringAsync() => (await Started.Value).Cache.ConnectionString;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var servers = await Started.Value;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using (var connection = new NpgsqlConnection(servers.Postgres.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return servers.Postgres.ConnectionString(name);
    }

    public static string Token(string subject, string role, TimeSpan? lifetime = null, TimeProvider? clock = null) =>
        TestTokens.Issue(subject, role, lifetime, clock);

    static async Task<Servers> StartAsync()
    {
        await RemoveLeftoversAsync();
        var folder = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        var options = new AppHostOptions(Fresh: true, folder, GatewayPort: 0, NodeCount: 0, ReadyFile: null, HealthTimeout: TimeSpan.FromSeconds(60));
        var run = new RunContext(options, new ResourceConsole(), (_, reason) => throw new InvalidOperationException(reason));
        var postgres = new PostgresServerResource("postgres", external: false);
        var cache = new GarnetResource("cache", externalConnectionString: null);
        await Task.WhenAll(postgres.StartAsync(run, CancellationToken.None), cache.StartAsync(run, CancellationToken.None));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            run.BeginStopping();
            postgres.StopAsync().GetAwaiter().GetResult();
            cache.StopAsync().GetAwaiter().GetResult();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return new(postgres, cache);
    }

    const string FolderPrefix = "platform-tests-";

    /// <summary>
    /// A test process that crashed or was killed never ran its exit handler: its PostgreSQL is still running and its
    /// folder still there. The folder is named for that process; once the process is gone, the servers running on the
    /// folder (found by their command line) are stopped and the folder removed.
    /// </summary>
    static async Task RemoveLeftoversAsync()
    {
        var leftovers = Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*")
            .Where(folder => int.TryParse(Path.GetFileName(folder)[FolderPrefix.Length..].Split('-')[0], out var owner) && !ChildProcess.IsAlive(owner))
            .ToList();
        if (leftovers.Count == 0) return;

        var servers = PostgresProcesses().Where(p => leftovers.Any(folder => p.CommandLine.Contains(folder))).Select(p => p.Pid).ToList();
        foreach (var pid in servers) ChildProcess.SendSignal(pid, ChildProcess.SIGINT);
        for (var waited = 0; servers.Any(ChildProcess.IsAlive) && waited < 10_000; waited += 100)
            await Task.Delay(100);
        foreach (var pid in servers.Where(ChildProcess.IsAlive)) ChildProcess.SendSignal(pid, ChildProcess.SIGKILL);

        foreach (var folder in leftovers)
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    static IEnumerable<(int Pid, string CommandLine)> PostgresProcesses()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string commandLine;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "postgres") continue;
                commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            yield return (pid, commandLine);
        }
    }

    sealed record Servers(PostgresServerResource Postgres, GarnetResource Cache);
}
