using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Gateway.Tests;

/// <summary>The gateway's real Program in memory over a fresh database, with its own key folder, an admin and one agent client.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminPassword = "correct horse battery staple";
    public const string AgentId = "node-7", AgentSecret = "agent-secret-of-node-7";
    readonly string keys = Directory.CreateTempSubdirectory("issuer-").FullName;

    public ServiceHost<Program> Host { get; private set; } = null!;

    /// <summary>The loopback port of a gateway started with real sockets (WebSocket tests); 0 for one in memory.</summary>
    public int Port { get; private set; }

    public static async Task<GatewayHost> StartAsync(IReadOnlyDictionary<string, string>? configuration = null, bool sockets = false)
    {
        var gateway = new GatewayHost();
        var settings = new Dictionary<string, string>
        {
            ["Gateway:Auth:KeyDirectory"] = gateway.keys,
            ["Gateway:Auth:AdminPassword"] = AdminPassword,
            [$"Gateway:Auth:Clients:{AgentId}:SecretSha256"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(AgentSecret))),
            [$"Gateway:Auth:Clients:{AgentId}:Role"] = "agent",
            // Every test's hosts share the test process's Garnet and one client address: counters of their own, limits
            // no test reaches unless it sets them.
            ["Gateway:RateLimits:KeyPrefix"] = $"test:{Guid.NewGuid():N}",
            ["Gateway:RateLimits:PerCallerPerMinute"] = "100000",
            ["Gateway:RateLimits:PerAddressPerMinute"] = "100000",
            ["Gateway:RateLimits:AuthPerAddressPerMinute"] = "100000",
            ["Gateway:Realtime:KeyPrefix"] = $"test:{Guid.NewGuid():N}:realtime",
            // Each host hears only what its own test publishes (the gateway's own audit events aside).
            ["Gateway:Realtime:ChannelPrefix"] = $"test.{Guid.NewGuid():N}.events",
        };
        foreach (var (key, value) in configuration ?? new Dictionary<string, string>()) settings[key] = value;
        if (sockets)
        {
            // Port 0: the kernel picks a free port as the server binds it, so no other test can take it in between.
            gateway.Host = await ServiceHost<Program>.StartOnAsync(await TestInfrastructure.CreateDatabaseAsync("gateway"),
                kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0), settings);
            var addresses = gateway.Host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
            gateway.Port = new Uri(addresses.First()).Port;
        }
        else gateway.Host = await ServiceHost<Program>.StartAsync(settings);
        return gateway;
    }

    public HttpClient Anonymous() => Host.AnonymousHttp();

    /// <summary>Posts JSON and returns the status and the body (default when the answer has none, as a bare 403 has not).</summary>
    public static async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public HttpClient As(string accessToken) => Host.Http(accessToken);

    public async Task<JsonElement> LoginAsync(string username, string password)
    {
        using var response = await Anonymous().PostAsJsonAsync("/api/auth/login", new { username, password });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The test agent's client credential exchanged for its access token (role agent).</summary>
    public async Task<string> AgentTokenAsync()
    {
        using var exchange = await Anonymous().PostAsync("/api/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = AgentId, ["client_secret"] = AgentSecret,
        }));
        return JsonDocument.Parse(await exchange.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
    }

    public async Task<HttpClient> AdminAsync() => As((await LoginAsync("admin", AdminPassword)).GetProperty("accessToken").GetString()!);

    /// <summary>Creates a user as the admin and returns a client logged in as it.</summary>
    public async Task<HttpClient> UserAsync(string username, string role, string password = "a long enough password")
    {
        using var admin = await AdminAsync();
        using var created = await admin.PostAsJsonAsync("/api/auth/users", new { username, password, role });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return As((await LoginAsync(username, password)).GetProperty("accessToken").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Delete(keys, recursive: true);
    }
}
