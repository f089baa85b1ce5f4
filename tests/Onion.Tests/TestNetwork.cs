using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Onion.Client;
using Platform.Onion.Directory;
using Platform.Onion.Relay;

namespace Platform.Onion.Tests;

/// <summary>
/// Three relays on loopback sockets, a directory authority that signs their consensus, a client that verifies it, and
/// a web server to fetch from. Flags make the path fixed: guard → middle → exit.
/// </summary>
public sealed class TestNetwork : IAsyncDisposable
{
    public required IReadOnlyList<OnionRelay> Relays { get; init; }
    public required RelayIdentity Authority { get; init; }
    public required OnionClient Client { get; init; }
    public required WebApplication Web { get; init; }
    public required Uri WebAddress { get; init; }
    public static readonly byte[] Page = [.. Enumerable.Range(0, 2_000_000).Select(i => (byte)(i * 31 % 251))];

    public OnionRelay Guard => Relays[0];
    public OnionRelay Middle => Relays[1];
    public OnionRelay Exit => Relays[2];

    public static async Task<TestNetwork> StartAsync(Func<int, IPEndPoint, IPEndPoint>? advertise = null)
    {
        var relays = new List<OnionRelay>();
        for (var i = 0; i < 3; i++)
        {
            var keys = new OnionKeyRing(TimeSpan.FromDays(7), TimeSpan.FromDays(1));
            keys.Rotate(DateTimeOffset.UtcNow);
            var relay = new OnionRelay(RelayIdentity.Create(), keys, ExitPolicy.Parse(i == 2 ? ExitPolicy.Default : ["reject *:*"]), NullLogger.Instance);
            relay.Start(new IPEndPoint(IPAddress.Loopback, 0));
            relays.Add(relay);
        }
        var authority = RelayIdentity.Create();
        string[][] flags = [["Running", "Fast", "Guard", "Stable"], ["Running", "Fast"], ["Running", "Fast", "Exit"]];
        var document = new ConsensusDocument
        {
            ValidAfter = DateTimeOffset.UtcNow.AddMinutes(-1),
            FreshUntil = DateTimeOffset.UtcNow.AddMinutes(10),
            ValidUntil = DateTimeOffset.UtcNow.AddMinutes(30),
            Relays = [.. relays.Select((r, i) =>
            {
                var endpoint = advertise?.Invoke(i, r.Endpoint!) ?? r.Endpoint!;
                return new ConsensusRelay
                {
                    NodeId = $"relay-{i}", Nickname = $"relay{i}", IdentityKey = Convert.ToBase64String(r.Identity.PublicKey),
                    OnionKey = Convert.ToBase64String(r.OnionKeys.Current.PublicKey), Address = endpoint.Address.ToString(), Port = endpoint.Port,
                    BandwidthBytesPerSecond = 0, Flags = flags[i], ExitPolicy = r.ExitPolicy.Text,
                };
            })],
        };
        var signed = document.Sign(authority);
        var client = new OnionClient(_ => Task.FromResult(ConsensusDocument.Verify(signed, authority.PublicKey, DateTimeOffset.UtcNow)), TimeProvider.System);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        web.MapGet("/page", () => Results.Bytes(Page, "application/octet-stream"));
        web.MapGet("/hello", () => "hello through three hops");
        web.MapPost("/echo", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            return Results.Bytes(body.ToArray());
        });
        await web.StartAsync();
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestNetwork { Relays = relays, Authority = authority, Client = client, Web = web, WebAddress = new Uri(address) };
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        foreach (var relay in Relays) await relay.DisposeAsync();
        await Web.DisposeAsync();
    }
}
