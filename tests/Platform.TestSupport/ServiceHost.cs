using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.TestSupport;

/// <summary>
/// A service's real <c>Program</c> in memory, over the test PostgreSQL and Garnet, with the test signing key; gRPC
/// channels and HTTP clients go through the in-memory server.
/// </summary>
public sealed class ServiceHost<TProgram> : WebApplicationFactory<TProgram> where TProgram : class
{
    readonly Dictionary<string, string?> settings;

    ServiceHost(Dictionary<string, string?> settings) => this.settings = settings;

    /// <summary>Starts the service over a new, empty database.</summary>
    public static async Task<ServiceHost<TProgram>> StartAsync(params (string Key, string Value)[] extra) =>
        await StartOnAsync(await TestInfrastructure.CreateDatabaseAsync(typeof(TProgram).Assembly.GetName().Name!.ToLowerInvariant()), extra);

    /// <summary>Starts the service over an existing database: a restart of the same service, say.</summary>
    public static async Task<ServiceHost<TProgram>> StartOnAsync(string connectionString, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:platformdb"] = connectionString,
            ["ConnectionStrings:cache"] = await TestInfrastructure.CacheConnectionStringAsync(),
            ["Auth:SigningKey"] = TestInfrastructure.SigningKey,
            ["Auth:Issuer"] = "platform",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        var host = new ServiceHost<TProgram>(settings);
        host.StartServer();
        return host;
    }

    public string ConnectionString => settings["ConnectionStrings:platformdb"]!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
    }

    public GrpcChannel Channel(string? token = null)
    {
        var handler = Server.CreateHandler();
        var channel = GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = token is null ? handler : new BearerHandler(token) { InnerHandler = handler },
        });
        return channel;
    }

    public HttpClient Http(string? token = null)
    {
        var client = CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    sealed class BearerHandler(string token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
