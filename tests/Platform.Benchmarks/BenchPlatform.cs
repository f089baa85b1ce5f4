using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Benchmarks;

/// <summary>
/// The whole platform (a Release AppHost) in a fresh data folder, for the benchmarks that go through the gateway, as
/// its admin with an API token (a script's credential: it does not expire mid-run) and rate limits far above the load.
/// </summary>
public sealed class BenchPlatform : IAsyncDisposable
{
    readonly Process appHost;
    readonly DirectoryInfo data;

    public HttpClient Http { get; }
    public string DataDirectory => data.FullName;
    public string AdminPassword { get; private init; } = "";

    /// <summary>A resource's http endpoint, from the ready file (to call a service directly, past the gateway).</summary>
    public string ServiceUrl(string resource) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(data.FullName, "ready.json"))).RootElement.GetProperty("resources").GetProperty(resource).GetProperty("http").GetString()!;

    /// <summary>A resource's process id, from the ready file.</summary>
    public int Pid(string resource) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(data.FullName, "ready.json"))).RootElement.GetProperty("resources").GetProperty(resource).GetProperty("pid").GetInt32();

    /// <summary>The AppHost's own process (it embeds the Redis-protocol server, Garnet).</summary>
    public int AppHostPid => appHost.Id;

    BenchPlatform(Process appHost, DirectoryInfo data, HttpClient http) => (this.appHost, this.data, Http) = (appHost, data, http);

    public static async Task<BenchPlatform> StartAsync(string appHostDll, int nodes, string prefix)
    {
        var data = Directory.CreateTempSubdirectory($"platform-bench-{prefix}-");
        data.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var ready = Path.Combine(data.FullName, "ready.json");
        var password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        var start = new ProcessStartInfo("dotnet", [appHostDll, "--data-dir", data.FullName, "--gateway-port", "0", "--gateway-https-port", "0", "--nodes", nodes.ToString(), "--no-web", "--ready-file", ready])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["Platform__AdminPassword"] = password;
        foreach (var limit in new[] { "PerCallerPerMinute", "PerAddressPerMinute", "AuthPerAddressPerMinute" })
            start.Environment[$"Gateway__RateLimits__{limit}"] = "100000000";
        start.Environment["Gateway__Realtime__MaxConnectionsPerUser"] = "100000"; // one admin, a thousand sockets
        var appHost = Process.Start(start)!;
        appHost.OutputDataReceived += (_, _) => { };
        appHost.ErrorDataReceived += (_, _) => { };
        appHost.BeginOutputReadLine();
        appHost.BeginErrorReadLine();
        while (!File.Exists(ready))
        {
            if (appHost.HasExited) throw new InvalidOperationException($"the AppHost exited with {appHost.ExitCode}");
            await Task.Delay(100);
        }
        var gateway = JsonDocument.Parse(await File.ReadAllTextAsync(ready)).RootElement.GetProperty("gateway").GetString()!;
        var platform = new BenchPlatform(appHost, data, new HttpClient { BaseAddress = new Uri(gateway), Timeout = TimeSpan.FromSeconds(30) }) { AdminPassword = password };
        platform.Http.DefaultRequestHeaders.Authorization = new("Bearer", await ApiTokenAsync(platform.Http, password));
        Console.WriteLine($"{prefix}: platform ready at {gateway}");
        await platform.WaitForReadyNodesAsync(nodes);
        return platform;
    }

    static async Task<string> ApiTokenAsync(HttpClient http, string password)
    {
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { username = "admin", password });
        var access = JsonDocument.Parse(await login.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/tokens") { Content = JsonContent.Create(new { name = "benchmark", role = "admin" }) };
        request.Headers.Authorization = new("Bearer", access);
        using var created = await http.SendAsync(request);
        return JsonDocument.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>The Ready nodes as (id, name), by name.</summary>
    public async Task<List<(string Id, string Name)>> ReadyNodesAsync() =>
        [.. JsonDocument.Parse(await Http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("status").GetString() == "Ready")
            .Select(n => (n.GetProperty("nodeId").GetString()!, n.GetProperty("name").GetString()!)).OrderBy(n => n.Item2)];

    async Task WaitForReadyNodesAsync(int count)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if ((await ReadyNodesAsync()).Count >= count) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{count} nodes did not become Ready");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Process.Start("kill", ["-TERM", appHost.Id.ToString()])!.WaitForExit();
        await appHost.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        appHost.Dispose();
        data.Delete(recursive: true);
    }
}
