using System.Security.Cryptography;
using Npgsql;

namespace Platform.AppHost.Hosting;

/// <summary>
/// A PostgreSQL server from the machine's binaries: initdb on first use (password auth, loopback only), started on a
/// free port, stopped with a fast shutdown. A server left running by an AppHost that was killed is stopped cleanly
/// before this one starts.
/// </summary>
public sealed class PostgresServerResource(string name, bool external) : Resource(name)
{
    ChildProcess? process;
    PostgresDataFolder? folder;

    public int Port { get; private set; }
    public string Password { get; private set; } = "";
    public bool IsExternal => external;

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Password = Password, Database = database }.ConnectionString;

    public override async Task StartAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (external)
        {
            State = ResourceState.External;
            return;
        }
        State = ResourceState.Starting;
        var binaries = PostgresBinaries.Find();
        folder = PostgresDataFolder.For(run.Options.DataDirectory, run.Console);

        await StopOrphanAsync(run);
        if (run.Options.Fresh && Directory.Exists(folder.Root))
        {
            run.Console.AppHost($"--fresh: removing {folder.Root}");
            Directory.Delete(folder.Root, recursive: true);
        }
        folder.Prepare();
        if (!File.Exists(Path.Combine(folder.DataDirectory, "PG_VERSION")))
            InitializeCluster(binaries, run);
        Password = File.ReadAllText(folder.PasswordFile).Trim();

        Port = Ports.Free();
        var (file, arguments) = folder.AsPostgresUser(Path.Combine(binaries, "postgres"),
            "-D", folder.DataDirectory, "-p", Port.ToString(),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=300", "-c", "logging_collector=off");
        process = ChildProcess.Start(Name, file, arguments, new Dictionary<string, string>(), run.Console);
        await WaitAcceptingAsync(run, cancellationToken);
        State = ResourceState.Running;
    }

    void InitializeCluster(string binaries, RunContext run)
    {
        run.Console.AppHost($"initializing a PostgreSQL cluster in {folder!.DataDirectory}");
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        Platform.ServiceDefaults.Security.SecretFiles.Write(folder.PasswordFile, password);

        // initdb reads the password from a file its own user can read; that copy lives only for the call.
        var passwordForInitdb = Path.Combine(folder.DataDirectory, "..", $".initdb-{Guid.NewGuid():N}");
        Platform.ServiceDefaults.Security.SecretFiles.Write(passwordForInitdb, password);
        try
        {
            if (folder.RunAsUser is not null)
                PostgresDataFolder.Run("chown", $"{folder.RunAsUser}:{folder.RunAsUser}", passwordForInitdb);
            var (file, arguments) = folder.AsPostgresUser(Path.Combine(binaries, "initdb"),
                "-D", folder.DataDirectory, "-U", "postgres", "--auth=scram-sha-256", $"--pwfile={passwordForInitdb}",
                "--encoding=UTF8", "--no-locale", "--no-instructions");
            PostgresDataFolder.Run(file, [.. arguments]);
        }
        finally
        {
            File.Delete(passwordForInitdb);
        }
    }

    async Task WaitAcceptingAsync(RunContext run, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + run.Options.HealthTimeout;
        var connectionString = ConnectionString("postgres") + ";Timeout=2;Pooling=false";
        while (true)
        {
            if (process!.Exited.IsCompleted)
                throw new AppHostException($"PostgreSQL exited with code {process.Exited.Result} during start; its last lines:{Environment.NewLine}{process.LastLines()}");
            if (DateTime.UtcNow > deadline)
                throw new AppHostException($"PostgreSQL did not accept connections within {run.Options.HealthTimeout.TotalSeconds:F0} s");
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) { }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>A postmaster.pid naming a live postgres means an earlier AppHost died without stopping it.</summary>
    async Task StopOrphanAsync(RunContext run)
    {
        var pidFile = Path.Combine(folder!.DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) || !IsPostgres(pid))
            return;
        run.Console.AppHost($"stopping the PostgreSQL (pid {pid}) an earlier run left behind");
        ChildProcess.SendSignal(pid, ChildProcess.SIGINT);
        for (var waited = 0; IsPostgres(pid); waited += 100)
        {
            if (waited > 30_000) throw new AppHostException($"the PostgreSQL an earlier run left behind (pid {pid}) did not stop within 30 s");
            await Task.Delay(100);
        }
    }

    static bool IsPostgres(int pid) =>
        ChildProcess.IsAlive(pid) && File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() is "postgres" or "postmaster";

    public override async Task StopAsync()
    {
        if (process is null) return;
        State = ResourceState.Stopping;
        // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
        await process.StopAsync(ChildProcess.SIGINT, TimeSpan.FromSeconds(30));
        State = ResourceState.Stopped;
    }

    public override string Describe() => external ? "external (ConnectionStrings__platformdb)" : $"tcp://127.0.0.1:{Port}, data in {folder?.DataDirectory}";
}

/// <summary>
/// A database on a <see cref="PostgresServerResource"/>, created if missing, with a login per service schema; or an
/// external one from configuration.
/// </summary>
public sealed class PostgresDatabaseResource : Resource, IResourceWithConnectionString
{
    readonly PostgresServerResource server;
    readonly string? externalConnectionString;

    public PostgresDatabaseResource(string name, PostgresServerResource server, string? externalConnectionString) : base(name)
    {
        this.server = server;
        this.externalConnectionString = externalConnectionString;
        Dependencies.Add(server);
    }

    readonly List<PostgresSchemaLogin> logins = [];

    /// <summary>The superuser's connection string: the AppHost's own, never a service's (see <see cref="Schema"/>).</summary>
    public string ConnectionString => externalConnectionString ?? server.ConnectionString(Name);

    public bool IsExternal => externalConnectionString is not null;

    /// <summary>A login of its own for the service that keeps its tables in <paramref name="schema"/>.</summary>
    public PostgresSchemaLogin Schema(string schema)
    {
        if (logins.FirstOrDefault(l => l.Schema == schema) is { } known) return known;
        var login = new PostgresSchemaLogin(this, schema);
        logins.Add(login);
        return login;
    }

    public override async Task StartAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (externalConnectionString is not null)
        {
            State = ResourceState.External;
            return;
        }
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = Name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            // CREATE DATABASE takes no parameters; the name is the AppHost's own constant, quoted as an identifier.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Name.Replace("\"", "\"\"")}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            run.Console.AppHost($"created database {Name}");
        }
        await using (var database = new NpgsqlConnection(server.ConnectionString(Name)))
        {
            await database.OpenAsync(cancellationToken);
            foreach (var login in logins) await login.EnsureAsync(database, cancellationToken);
        }
        State = ResourceState.Running;
    }

    public override Task StopAsync() => Task.CompletedTask;

    public override string Describe() => externalConnectionString is not null ? "external (ConnectionStrings__platformdb)" : $"database {Name} on {server.Name}";
}

/// <summary>Finds the PostgreSQL server binaries: <c>pg_config --bindir</c>, else the newest /usr/lib/postgresql/*/bin.</summary>
static class PostgresBinaries
{
    public static string Find()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var found = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")) && File.Exists(Path.Combine(d, "initdb")));
        return found ?? throw new AppHostException(
            "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/postgres): install the Debian package postgresql-15 (apt-get install postgresql-15), or set ConnectionStrings__platformdb to use an existing server");
    }
}
