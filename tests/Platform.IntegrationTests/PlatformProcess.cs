using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// The AppHost run as a real process, the way Aspire.Hosting.Testing runs an app model: fresh ports (the gateway on
/// any free port), a throw-away data folder, and a marker in the environment that every process it starts inherits,
/// so a test can tell whether anything of this run is still alive.
/// </summary>
public sealed class PlatformProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();
    readonly string readyFile;
    /// <summary>The data folder this platform made for itself, removed when it is disposed.</summary>
    TestDataFolder? ownData;

    public string Marker { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The admin user's password, given to the AppHost as an operator would (<c>Platform__AdminPassword</c>).</summary>
    public string AdminPassword { get; }

    /// <summary>Outside agents the issuer knows (a client credential each, role agent), for tests that play one.</summary>
    static readonly string[] TestAgents = ["edge-gw"];
    readonly Dictionary<string, string> agentSecrets = TestAgents.ToDictionary(id => id, _ => Guid.NewGuid().ToString("N"));
    public string DataDirectory { get; }
    public Uri Gateway { get; private set; } = null!;
    public Uri GatewayHttps { get; private set; } = null!;
    public double StartupSeconds { get; private set; }
    public DateTimeOffset HealthyAt { get; private set; }
    public int Id => process.Id;

    /// <summary>The PIDs of the projects as the ready file listed them.</summary>
    public IReadOnlyDictionary<string, int> Pids { get; private set; } = new Dictionary<string, int>();

    /// <summary>The control panel's address, when this platform runs it.</summary>
    public Uri? Web { get; private set; }

    PlatformProcess(string dataDirectory, bool fresh, int nodes, IReadOnlyDictionary<string, string>? environment, bool web)
    {
        AdminPassword = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        DataDirectory = dataDirectory;
        readyFile = Path.Combine(dataDirectory, $"ready-{Marker}.json");
        Directory.CreateDirectory(dataDirectory);
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["exec", Projects.AppHost.TargetPath, "--data-dir", dataDirectory, "--gateway-port", "0", "--gateway-https-port", "0", "--socks-port", "0", "--ready-file", readyFile])
            info.ArgumentList.Add(argument);
        if (fresh) info.ArgumentList.Add("--fresh");
        // The control panel only for the tests that drive it in a browser.
        foreach (var argument in web ? ["--web-port", "0"] : (string[])["--no-web"]) info.ArgumentList.Add(argument);
        info.ArgumentList.Add("--nodes");
        info.ArgumentList.Add(nodes.ToString());
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        info.Environment["PLATFORM_TEST_MARKER"] = Marker;
        info.Environment["Platform__AdminPassword"] = AdminPassword;
        // Tests poll through the gateway far faster than people do: the limiter runs, its limits are out of reach.
        foreach (var limit in new[] { "PerCallerPerMinute", "PerAddressPerMinute", "AuthPerAddressPerMinute" })
            info.Environment[$"Gateway__RateLimits__{limit}"] = "1000000";
        foreach (var (agent, secret) in agentSecrets)
        {
            info.Environment[$"Gateway__Auth__Clients__{agent}__SecretSha256"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
            info.Environment[$"Gateway__Auth__Clients__{agent}__Role"] = "agent";
        }
        process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>
    /// Starts the AppHost on <paramref name="dataDirectory"/>, or on a new data folder of its own that goes when it is
    /// disposed (a test that starts a second platform on the first one's data passes a <see cref="TestDataFolder"/>).
    /// </summary>
    public static async Task<PlatformProcess> StartAsync(
        string? dataDirectory = null, bool fresh = true, int nodes = 2, IReadOnlyDictionary<string, string>? environment = null, bool web = false)
    {
        var own = dataDirectory is null ? new TestDataFolder() : null;
        var platform = new PlatformProcess(dataDirectory ?? own!.Path, fresh, nodes, environment, web) { ownData = own };
        // The control panel may need npm ci and next build first: minutes on a loaded machine.
        await platform.WaitReadyAsync(TimeSpan.FromMinutes(web ? 10 : 3));
        return platform;
    }

    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>A client of the gateway logged in as the admin user (it logs in again when its token is refused).</summary>
    public HttpClient CreateHttpClient() =>
        new(new LoginHandler(Gateway, "admin", AdminPassword, ErrorLines) { InnerHandler = new HttpClientHandler() }) { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The lines of the output from an error (a "fail:" log entry) on, the last 200.</summary>
    public string ErrorLines()
    {
        var lines = Output.Split('\n');
        var first = Array.FindIndex(lines, line => line.Contains("fail: ", StringComparison.Ordinal));
        return first < 0 ? "(nothing)" : string.Join('\n', lines[first..].TakeLast(200));
    }

    /// <summary>A client of the gateway with no token.</summary>
    public HttpClient CreateAnonymousHttpClient() => new() { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A token for one of <see cref="TestAgents"/>, exchanged at the gateway like any outside agent's credential.</summary>
    public Task<string> AgentTokenAsync(string agentId) => ExchangeAsync(agentId, agentSecrets[agentId]);

    /// <summary>A service's token, exchanged with the client credential the AppHost gave that service (read from its environment).</summary>
    public Task<string> ServiceTokenAsync(string service, string audience = "platform")
    {
        var environment = EnvironmentOf(service);
        return ExchangeAsync(environment["Auth__ClientId"], environment["Auth__ClientSecret"], audience);
    }

    /// <summary>The environment a resource's process runs with, as anything on the machine that can read /proc sees it.</summary>
    public Dictionary<string, string> EnvironmentOf(string resource) =>
        File.ReadAllText($"/proc/{Pids[resource]}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('=', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    async Task<string> ExchangeAsync(string clientId, string secret, string audience = "platform")
    {
        using var http = CreateAnonymousHttpClient();
        using var response = await http.PostAsync("/api/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret, ["audience"] = audience,
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    async Task WaitReadyAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!File.Exists(readyFile))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The AppHost exited with code {process.ExitCode} before it was ready:\n{Output}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The AppHost was not ready within {limit}:\n{Output}");
            await Task.Delay(100);
        }
        HealthyAt = DateTimeOffset.UtcNow;
        using var ready = JsonDocument.Parse(await File.ReadAllTextAsync(readyFile));
        Pids = ready.RootElement.GetProperty("resources").EnumerateObject()
            .Where(r => r.Value.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number)
            .ToDictionary(r => r.Name, r => r.Value.GetProperty("pid").GetInt32());
        Gateway = new Uri(ready.RootElement.GetProperty("gateway").GetString()!);
        GatewayHttps = new Uri(ready.RootElement.GetProperty("gatewayHttps").GetString()!);
        Web = ready.RootElement.TryGetProperty("web", out var web) && web.GetString() is { } url ? new Uri(url) : null;
        StartupSeconds = ready.RootElement.GetProperty("startupSeconds").GetDouble();
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, KILL) to the AppHost alone, as a supervisor would.</summary>
    public void Signal(string signal) => Process.Start("kill", ["-" + signal, process.Id.ToString()])!.WaitForExit();

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    /// <summary>PIDs and command names of live processes carrying this run's marker, the AppHost itself included.</summary>
    public IReadOnlyList<(int Pid, string Command)> LiveProcesses() => ProcessTable.WithEnvironment("PLATFORM_TEST_MARKER", Marker);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            Signal("TERM");
            try { await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        }
        foreach (var (pid, _) in LiveProcesses())
            try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        process.Dispose();
        ownData?.Dispose();
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }
}

/// <summary>Reads /proc to find processes by an environment variable.</summary>
static class ProcessTable
{
    public static IReadOnlyList<(int Pid, string Command)> WithEnvironment(string name, string value)
    {
        var needle = Encoding.UTF8.GetBytes($"{name}={value}\0");
        var found = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var environment = File.ReadAllBytes(Path.Combine(dir, "environ"));
                if (environment.AsSpan().IndexOf(needle) < 0) continue;
                var state = File.ReadAllText(Path.Combine(dir, "stat"));
                if (state[(state.LastIndexOf(')') + 2)..].StartsWith('Z')) continue; // a zombie is gone, only not yet reaped
                found.Add((pid, File.ReadAllText(Path.Combine(dir, "comm")).Trim()));
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }
}

/// <summary>
/// A temporary data folder PostgreSQL's user can reach (so its data stays inside it rather than in a fallback folder),
/// removed on dispose.
/// </summary>
public sealed class TestDataFolder : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("platform-it-");

    public TestDataFolder() => folder.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public string Path => folder.FullName;

    public void Dispose()
    {
        try { folder.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
