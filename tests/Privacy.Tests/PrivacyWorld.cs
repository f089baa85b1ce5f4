extern alias compute;
extern alias telemetry;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.Onion;
using Platform.Onion.Directory;
using Platform.Onion.Relay;
using Platform.Privacy.Relays;
using Platform.Privacy.V1;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>
/// The Privacy service in memory over a real PostgreSQL and Garnet, with the real Compute and Telemetry on real
/// sockets; relays are the onion library's own, on loopback, publishing as their nodes' agents would.
/// </summary>
public sealed class PrivacyWorld : IAsyncDisposable
{
    public required ServiceHost<compute::Program> Compute { get; init; }
    public required ServiceHost<telemetry::Program> Telemetry { get; init; }
    public required ServiceHost<Program> Privacy { get; init; }
    public required int SocksPort { get; init; }
    public required int ComputePort { get; init; }
    readonly List<OnionRelay> relays = [];

    public static async Task<PrivacyWorld> StartAsync()
    {
        var database = await TestInfrastructure.CreateDatabaseAsync("privacy");
        var computePort = AppHost.Hosting.Ports.Free();
        var telemetryPort = AppHost.Hosting.Ports.Free();
        var socksPort = AppHost.Hosting.Ports.Free();
        var computeHost = await ServiceHost<compute::Program>.StartOnAsync(database,
            kestrel => kestrel.Listen(IPAddress.Loopback, computePort, listen => listen.Protocols = HttpProtocols.Http2));
        var telemetryHost = await ServiceHost<telemetry::Program>.StartOnAsync(database,
            kestrel => kestrel.Listen(IPAddress.Loopback, telemetryPort, listen => listen.Protocols = HttpProtocols.Http2));
        var privacy = await ServiceHost<Program>.StartOnAsync(database, configuration: new Dictionary<string, string>
        {
            ["services:compute:grpc:0"] = $"http://127.0.0.1:{computePort}",
            ["services:telemetry:grpc:0"] = $"http://127.0.0.1:{telemetryPort}",
            ["Auth:Token"] = TestInfrastructure.Token("privacy", "service"),
            ["Privacy:SocksListen"] = $"127.0.0.1:{socksPort}",
            ["Privacy:AuthorityKeyFile"] = Path.Combine(Path.GetTempPath(), $"privacy-authority-{Guid.NewGuid():N}.key"),
            // The tests sign consensuses themselves, when they want one.
            ["Privacy:ConsensusInterval"] = "01:00:00",
        });
        return new PrivacyWorld { Compute = computeHost, Telemetry = telemetryHost, Privacy = privacy, SocksPort = socksPort, ComputePort = computePort };
    }

    public V1.Privacy.PrivacyClient As(string user, string role) => new(Privacy.Channel(TestInfrastructure.Token(user, role)));
    public RelayDirectory.RelayDirectoryClient Agent(string node) => new(Privacy.Channel(TestInfrastructure.Token(node, "agent")));

    public async Task<Node> AddNodeAsync(string name, int cores = 4)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{ComputePort}", new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new BearerHandler(TestInfrastructure.Token(name, "agent")) { InnerHandler = new SocketsHttpHandler() },
        });
        var client = new Compute.V1.Compute.ComputeClient(channel);
        return await client.RegisterNodeAsync(new RegisterNodeRequest
        {
            NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1",
            Capacity = new NodeCapacity { CpuCores = cores, MemoryBytes = 4L << 30, DiskBytes = 1L << 30 },
            Drivers = { new DriverInfo { Name = "process", Available = true } },
        });
    }

    /// <summary>Starts a relay for <paramref name="node"/> on loopback and publishes its descriptor as the node's agent.</summary>
    public async Task<OnionRelay> StartRelayAsync(string node, IReadOnlyList<string> exitPolicy, int? advertisedPort = null)
    {
        var keys = new OnionKeyRing(TimeSpan.FromDays(7), TimeSpan.FromDays(1));
        keys.Rotate(DateTimeOffset.UtcNow);
        var relay = new OnionRelay(RelayIdentity.Create(), keys, ExitPolicy.Parse(exitPolicy), NullLogger.Instance);
        relay.Start(new IPEndPoint(IPAddress.Loopback, 0));
        relays.Add(relay);
        var signed = Descriptor(relay, node, exitPolicy, advertisedPort).Sign(relay.Identity);
        var response = await Agent(node).PublishDescriptorAsync(new PublishDescriptorRequest { Body = signed.Body, Signature = signed.Signature });
        Assert.True(response.Accepted);
        return relay;
    }

    public static RelayDescriptor Descriptor(OnionRelay relay, string node, IReadOnlyList<string> exitPolicy, int? port = null) => new()
    {
        NodeId = Guid.NewGuid().ToString(), Nickname = node, IdentityKey = Convert.ToBase64String(relay.Identity.PublicKey),
        OnionKey = Convert.ToBase64String(relay.OnionKeys.Current.PublicKey), Address = "127.0.0.1", Port = port ?? relay.Endpoint!.Port,
        BandwidthBytesPerSecond = 1_000_000, ExitPolicy = exitPolicy, PublishedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
    };

    public Task<ConsensusDocument> SignConsensusAsync() => Privacy.Services.GetRequiredService<ConsensusJob>().PublishAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in relays) await relay.DisposeAsync();
        await Privacy.DisposeAsync();
        await Telemetry.DisposeAsync();
        await Compute.DisposeAsync();
    }
}
