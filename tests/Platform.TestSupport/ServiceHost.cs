using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.TestSupport;

/// <summary>
/// A service's real <c>Program</c> in memory, over the test PostgreSQL and Garnet, trusting the test issuer's key; gRPC
/// channels and HTTP clients go through the in-memory server.
/// </summary>
public sealed class ServiceHost<TProgram> : WebApplicationFactory<TProgram> where TProgram : class
{
    readonly Dictionary<string, string?> settings;
    Action<IServiceCollection>? services;

    ServiceHost(Dictionary<string, string?> settings) => this.settings = settings;

    /// <summary>Starts the service over a new, empty database.</summary>
    /// <summary>
    /// Starts the service over a fresh database; <paramref name="services"/> may replace registrations after the
    /// service's own (a <c>FakeTimeProvider</c> for <c>TimeProvider</c>, say).
    /// </summary>
    public static async Task<ServiceHost<TProgram>> StartAsync(IReadOnlyDictionary<string, string>? configuration = null, Action<IServiceCollection>? services = null) =>
        await StartOnAsync(await TestInfrastructure.CreateDatabaseAsync(typeof(TProgram).Assembly.GetName().Name!.ToLowerInvariant()), configuration: configuration,
            services: services);

    /// <summary>
    /// Starts the service over an existing database (a restart of the same service, say); in memory, or on real
    /// Kestrel sockets when <paramref name="kestrel"/> configures them (benchmarks).
    /// </summary>
    public static async Task<ServiceHost<TProgram>> StartOnAsync(
        string connectionString, Action<KestrelServerOptions>? kestrel = null, IReadOnlyDictionary<string, string>? configuration = null,
        Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:platformdb"] = connectionString,
            ["ConnectionStrings:cache"] = await TestInfrastructure.CacheConnectionStringAsync(),
            ["Auth:Jwks"] = TestTokens.Jwks,
            // Every test's hosts share one Garnet: each keeps its own list of rejected agents, as each has its own database.
            ["Cache:RevokedAgentsKey"] = $"test:{Guid.NewGuid():N}:revoked-agents",
        };
        foreach (var (key, value) in configuration ?? new Dictionary<string, string>()) settings[key] = value;
        var host = new ServiceHost<TProgram>(settings) { services = services };
        if (kestrel is not null) host.UseKestrel(kestrel);
        host.StartServer();
        return host;
    }

    public string ConnectionString => settings["ConnectionStrings:platformdb"]!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        if (services is not null) builder.ConfigureTestServices(services);
    }

    /// <summary>The token a test's calls carry unless it names one: an admin's, as a logged-in operator's would be.</summary>
    public static string DefaultToken { get; } = TestTokens.Issue("tester", "admin", TimeSpan.FromDays(1));

    /// <summary>A channel whose calls carry <paramref name="token"/> (the default admin token when null).</summary>
    public GrpcChannel Channel(string? token = null) => ChannelAs(token ?? DefaultToken);

    /// <summary>A channel whose calls carry no token at all.</summary>
    public GrpcChannel AnonymousChannel() => ChannelAs(null);

    GrpcChannel ChannelAs(string? token)
    {
        var handler = Server.CreateHandler();
        return GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = token is null ? handler : new BearerHandler(token) { InnerHandler = handler },
        });
    }

    /// <summary>An HTTP client whose requests carry <paramref name="token"/> (the default admin token when null).</summary>
    public HttpClient Http(string? token = null)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token ?? DefaultToken);
        return client;
    }

    /// <summary>An HTTP client whose requests carry no token at all.</summary>
    public HttpClient AnonymousHttp() => CreateClient();
}

/// <summary>Sends every request with <c>Authorization: Bearer {token}</c>.</summary>
public sealed class BearerHandler(string token) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new("Bearer", token);
        return base.SendAsync(request, cancellationToken);
    }
}
